import { useEffect, useState } from 'react';

/** Re-renders once a second while `active`, for durations that grow on screen. */
export function useSecondTicks(active: boolean): void {
  const [, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
}
