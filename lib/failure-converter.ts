/**
 * The failure converter Lifeboat's workers and clients load by path (`failureConverterPath`, so the
 * workflow sandbox gets it too): failure messages and stack traces are moved into an encoded
 * payload, which the payload codec then encrypts. Without it an error message naming a key, a
 * path or a value would sit in the history in clear. Workflow-safe: imports only @temporalio/common.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
