/**
 * Errors the stand-in answers with. Messages and status codes copy Qdrant's
 * own (`StorageError` / `CollectionError` Display strings and the status
 * mapping in `src/actix/helpers.rs`), so a client sees what real Qdrant sends.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** StorageError::BadInput → 400 "Wrong input: …" */
export const badInput = (description: string) => new ApiError(400, `Wrong input: ${description}`);
/** StorageError::BadRequest → 400 "Bad request: …" */
export const badRequest = (description: string) => new ApiError(400, `Bad request: ${description}`);
/** StorageError::NotFound → 404 "Not found: …" */
export const notFound = (description: string) => new ApiError(404, `Not found: ${description}`);
/** StorageError::AlreadyExists → 409, displayed as "Wrong input: …" */
export const alreadyExists = (description: string) => new ApiError(409, `Wrong input: ${description}`);
/** serde_json failures of actix's Json extractor. */
export const jsonFormatError = (detail: string) => new ApiError(400, `Format error in JSON body: ${detail}`);
/** `validator` failures of actix-web-validator. */
export const validationError = (detail: string) => new ApiError(422, `Validation error in JSON body: [${detail}]`);
/** Features this stand-in does not implement: loud, never silently wrong. */
export const unsupported = (what: string) =>
  new ApiError(400, `Bad request: ${what} is not supported by the Lifeboat Qdrant stand-in`);

export const collectionNotFound = (name: string) => notFound(`Collection \`${name}\` doesn't exist!`);
export const dimensionError = (expected: number, got: number) =>
  badInput(`Vector dimension error: expected dim: ${expected}, got ${got}`);
export const vectorNameError = (name: string) => badInput(`Not existing vector name error: ${name}`);
