/**
 * The program the keychain helper process runs (CommonJS, passed to `node -e`). It owns every
 * @napi-rs/keyring call so that the server never does keychain I/O on its own threads.
 *
 * Why a separate process (STORE-TIMEOUT): the `AsyncEntry` constructor connects to D-Bus
 * synchronously; against a session bus that accepts the connection but never answers, it blocks
 * the event loop indefinitely (measured: > 60 s, no timer fires). A worker thread does not help:
 * a thread stuck in native code keeps `process.exit()` from returning. A child process can always
 * be killed, so every call is bounded and the server keeps serving.
 *
 * STORE-PIN: every entry is pinned to the Secret Service on Linux (the option is ignored
 * elsewhere); unpinned, the binding silently falls back to the kernel keyring, which does not
 * survive a reboot.
 *
 * argv[1] is the resolved path of @napi-rs/keyring. Requests: { id, op, service, account, value? };
 * replies: { id, ok: true, value } or { id, ok: false, message }.
 */
export const KEYCHAIN_HELPER_SOURCE = String.raw`
'use strict';
const { AsyncEntry } = require(process.argv[1]);
const entries = new Map();
function entryFor(service, account) {
  const key = JSON.stringify([service, account]);
  let entry = entries.get(key);
  if (!entry) {
    entry = new AsyncEntry(service, account, { linux: { store: 'secret-service' } });
    entries.set(key, entry);
  }
  return entry;
}
async function run(request) {
  const entry = entryFor(request.service, request.account);
  switch (request.op) {
    case 'get': return await entry.getPassword();
    case 'set': await entry.setPassword(request.value); return null;
    case 'delete': return await entry.deleteCredential();
    default: throw new Error('unknown keychain operation');
  }
}
process.on('message', (request) => {
  run(request).then(
    (value) => process.send({ id: request.id, ok: true, value }),
    (error) => {
      // A failed entry may hold a dead connection: build a fresh one next time.
      entries.delete(JSON.stringify([request.service, request.account]));
      process.send({ id: request.id, ok: false, message: String(error && error.message ? error.message : error) });
    },
  );
});
process.on('disconnect', () => process.exit(0));
`;
