import { useRef, useState, type FormEvent } from 'react';
import type { ImportJob } from '../../../src/api/schemas.js';
import { api, ApiError } from '../api.js';

type Shipping = NonNullable<ImportJob['shipping']>;

const FIELDS: { name: keyof Shipping; label: string; type?: string; hint?: string; multiline?: boolean; autoComplete?: string }[] = [
  { name: 'carrier', label: 'Carrier', hint: 'e.g. DHL, FedEx, UPS' },
  { name: 'trackingNumber', label: 'Tracking number', hint: "letters, digits and dashes; one package holds one job's drives" },
  { name: 'shipDate', label: 'Ship date', type: 'date' },
  { name: 'contactName', label: 'Contact name', autoComplete: 'name' },
  { name: 'phone', label: 'Phone', type: 'tel', autoComplete: 'tel' },
  { name: 'email', label: 'Email', type: 'email', autoComplete: 'email' },
  { name: 'returnAddress', label: 'Return address', multiline: true, autoComplete: 'street-address' },
  { name: 'country', label: 'Country (ISO code)', hint: 'two capital letters, e.g. NL', autoComplete: 'country' },
  { name: 'postalCode', label: 'Postal code', autoComplete: 'postal-code' },
];

const EMPTY: Shipping = {
  carrier: '',
  trackingNumber: '',
  shipDate: '',
  contactName: '',
  phone: '',
  email: '',
  returnAddress: '',
  country: '',
  postalCode: '',
};

/**
 * The shipping details, checked by the service alone (the same rules as the CLI's): the form
 * sends what was typed and marks the one field the service names, with its message.
 */
export function ShippingForm({ path, current, onSaved }: { path: string; current?: Shipping; onSaved: (job: ImportJob) => void }) {
  const [values, setValues] = useState<Shipping>(current ?? EMPTY);
  const [fault, setFault] = useState<{ field?: string; message: string }>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      onSaved(await api<ImportJob>('PUT', path, values));
      setFault(undefined);
      setSaved(true);
    } catch (err) {
      const field = err instanceof ApiError && FIELDS.some((f) => f.name === err.field) ? err.field : undefined;
      setFault({ field, message: err instanceof Error ? err.message : String(err) });
      if (field) form.current?.querySelector<HTMLElement>(`[name="${field}"]`)?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <form ref={form} className="shipping" onSubmit={(e) => void submit(e)} noValidate aria-label="Shipping details">
      {FIELDS.map((f) => {
        const invalid = fault?.field === f.name;
        const described = [f.hint ? `${f.name}-hint` : '', invalid ? `${f.name}-error` : ''].filter(Boolean).join(' ') || undefined;
        const common = {
          id: `ship-${f.name}`,
          name: f.name,
          value: values[f.name],
          autoComplete: f.autoComplete,
          'aria-invalid': invalid || undefined,
          'aria-describedby': described,
        };
        return (
          <div key={f.name} className={invalid ? 'field invalid' : 'field'}>
            <label htmlFor={`ship-${f.name}`}>{f.label}</label>
            {f.multiline ? (
              <textarea {...common} rows={3} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
            ) : (
              <input {...common} type={f.type ?? 'text'} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
            )}
            {f.hint && (
              <p id={`${f.name}-hint`} className="hint">
                {f.hint}
              </p>
            )}
            {invalid && (
              <p id={`${f.name}-error`} className="error field-error">
                {fault.message}
              </p>
            )}
          </div>
        );
      })}
      {fault && !fault.field && (
        <p className="error" role="alert">
          {fault.message}
        </p>
      )}
      {fault?.field && (
        <p className="error" role="alert">
          Check the field marked: {fault.message}
        </p>
      )}
      {saved && <p role="status">Shipping details saved.</p>}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save shipping details'}
      </button>
    </form>
  );
}
