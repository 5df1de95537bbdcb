import { Type, type Static } from '@sinclair/typebox';

/**
 * The HTTP API's request and response shapes, declared once: the server validates with them
 * (fastify + ajv), publishes them at /openapi.json, and the clients in agent/ take their
 * types from here.
 */
export const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });

export const ErrorBody = Type.Object({
  error: Type.String({ description: 'stable error code' }),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the request field at fault' })),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Health = Type.Object({ status: Type.Literal('ok'), database: Type.String(), version: Type.String() });

export const SubscriptionParams = Type.Object({ subscriptionId: Id });
export const ApplicationParams = Type.Object({ subscriptionId: Id, applicationId: Id });
export const CertificateParams = Type.Object({ subscriptionId: Id, applicationId: Id, thumbprint: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

const Pem = Type.String({ minLength: 64, maxLength: 20_000, pattern: '-----BEGIN CERTIFICATE-----' });
const AppName = Type.String({ minLength: 1, maxLength: 120, pattern: '^[A-Za-z0-9_.@-]+$' });

export const CreateApplication = Type.Object({ name: AppName, certificate: Pem }, { additionalProperties: false });
export type CreateApplication = Static<typeof CreateApplication>;

export const Certificate = Type.Object({
  thumbprint: Type.String(),
  notBefore: Type.String(),
  notAfter: Type.String(),
  revoked: Type.Boolean(),
});
export type Certificate = Static<typeof Certificate>;

export const Application = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  certificates: Type.Array(Certificate),
});
export type Application = Static<typeof Application>;

export const ApplicationList = Type.Object({ applications: Type.Array(Application) });
export const ApplicationQuery = Type.Object({ name: Type.Optional(AppName) });

export const UploadCertificate = Type.Object({ certificate: Pem }, { additionalProperties: false });
export type UploadCertificate = Static<typeof UploadCertificate>;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** RFC 7523 client credentials with a JWT assertion signed by the application's certificate key. */
export const TokenRequest = Type.Object(
  {
    grant_type: Type.Literal('client_credentials'),
    client_id: Id,
    client_assertion_type: Type.Literal(CLIENT_ASSERTION_TYPE),
    client_assertion: Type.String({ minLength: 20, maxLength: 8000 }),
  },
  { additionalProperties: false },
);
export type TokenRequest = Static<typeof TokenRequest>;

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});
export type TokenResponse = Static<typeof TokenResponse>;

export const WhoAmI = Type.Object({ subscriptionId: Type.String(), applicationId: Type.Optional(Type.String()), role: Type.Union([Type.Literal('owner'), Type.Literal('application')]) });
export type WhoAmI = Static<typeof WhoAmI>;
