// Stand-in for @session.js/errors, which the npm registry does not carry. @session.js/mnemonic
// imports only these two names; the shape (code + message) is what its callers read.
export const SessionValidationErrorCode = new Proxy({}, { get: (_t, name) => String(name) });

export class SessionValidationError extends Error {
  constructor({ code, message } = {}) {
    super(message);
    this.name = 'SessionValidationError';
    this.code = code;
  }
}
