// RFC 8414 authorization server metadata at the path-aware well-known URL
// (/.well-known/oauth-authorization-server/t/<slug>, §3.1), which is the first URL the MCP SDK tries.
// `issuer` is byte-for-byte what clients compare (§3.3) and what we send as `iss` (RFC 9207).
// MCP 2026-07-28 Authorization: Client ID Metadata Documents are the preferred registration
// (`client_id_metadata_document_supported`); dynamic registration (RFC 7591) is deprecated there but
// still offered (OAUTH_DYNAMIC_REGISTRATION) for the clients that use it; `iss` is always sent.
import { Router } from 'express';
import type { Config } from '../../config.js';
import type { Services } from '../../services.js';
import { resolveTenant, tenantOf } from '../http.js';
import { ALL_CUSTOMER_SCOPES, ALL_STAFF_SCOPES } from '../scopes.js';
import { JWT_BEARER } from '../grants/jwt-bearer.js';

export function authorizationServerMetadata(config: Pick<Config, 'dynamicRegistration'>, issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    ...(config.dynamicRegistration ? { registration_endpoint: `${issuer}/register` } : {}),
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', JWT_BEARER],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: [...ALL_CUSTOMER_SCOPES, ...ALL_STAFF_SCOPES],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    service_documentation: 'https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization',
  };
}

export function metadataEndpoint(services: Services): Router {
  const router = Router();
  router.get('/.well-known/oauth-authorization-server/t/:slug', resolveTenant(services), (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300');
    res.set('Access-Control-Allow-Origin', '*'); // public metadata; browser-based MCP clients read it
    res.json(authorizationServerMetadata(services.config, tenantOf(res).issuer));
  });
  return router;
}
