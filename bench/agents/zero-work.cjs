#!/usr/bin/env node
// A zero-work agent for benchmarks (the `command` adapter runs it): it marks its feature passing in
// the feature store and exits, so the benchmark measures the orchestrator, not the agent.
//
// Every millisecond here is multiplied by the length of a chain, so it speaks to Postgres with
// pg's protocol module and a synchronous SCRAM-SHA-256 exchange instead of pg.Client: process
// start to exit went from ~60 ms to ~45 ms (`/usr/bin/time node bench/agents/zero-work.cjs`), most
// of the rest being Node's own start; CommonJS, which Node loads ~4 ms sooner than an ES module.
// One parameterised UPDATE (no feature text in the SQL); a batch agent (AUTOCODER_FEATURE_IDS,
// comma-separated) marks its whole batch passing in it.
const { createHash, createHmac, pbkdf2Sync, randomBytes } = require('node:crypto');
const { createConnection } = require('node:net');
const { parse, serialize } = require('pg-protocol');

const {
  AUTOCODER_PROJECT_ID: project,
  AUTOCODER_FEATURE_ID: single,
  AUTOCODER_FEATURE_IDS: batch,
  AUTOCODER_AGENT_KIND: kind,
  DATABASE_URL: databaseUrl,
} = process.env;
if (kind !== 'coding') process.exit(0);
const feature = batch || single;
const url = new URL(databaseUrl ?? 'postgres://localhost/');
const password = decodeURIComponent(url.password).normalize('NFKC');

/** @param {string} why */
const fail = (why) => {
  process.stderr.write(`zero-work agent: ${why}\n`);
  process.exit(1);
};
const socket = createConnection({ host: url.hostname, port: Number(url.port || 5432) });
socket.setNoDelay(true);
socket.on('error', (err) => fail(err.message));
socket.on('connect', () => {
  socket.write(
    serialize.startup({
      user: decodeURIComponent(url.username),
      database: decodeURIComponent(url.pathname.slice(1)),
      client_encoding: 'UTF8',
    }),
  );
});

// SCRAM-SHA-256 without channel binding (RFC 5802, RFC 7677), as libpq does over plain TCP.
const clientNonce = randomBytes(18).toString('base64');
const clientFirstBare = `n=*,r=${clientNonce}`;
let expectedServerSignature = '';
/** @param {import('node:crypto').BinaryLike} key @param {string} text */
const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
/** @param {string} serverFirst */
function clientFinal(serverFirst) {
  /** @type {Record<string, string>} */
  const fields = Object.fromEntries(serverFirst.split(',').map((part) => [part[0], part.slice(2)]));
  if (!fields.r?.startsWith(clientNonce)) fail('SCRAM: server nonce does not extend ours');
  const salted = pbkdf2Sync(password, Buffer.from(fields.s ?? '', 'base64'), Number(fields.i), 32, 'sha256');
  const withoutProof = `c=biws,r=${fields.r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const clientKey = hmac(salted, 'Client Key');
  const signature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0))).toString('base64');
  expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
  return `${withoutProof},p=${proof}`;
}

let updated = false;
parse(socket, (backendMessage) => {
  // Only the fields of the messages handled below are read.
  const message = /** @type {{ name: string, mechanisms: string[], data: string, message: string }} */ (
    /** @type {unknown} */ (backendMessage)
  );
  switch (message.name) {
    case 'authenticationSASL':
      if (!message.mechanisms.includes('SCRAM-SHA-256'))
        fail(`no supported SASL mechanism in ${message.mechanisms.join(', ')}`);
      socket.write(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', `n,,${clientFirstBare}`));
      break;
    case 'authenticationSASLContinue':
      socket.write(serialize.sendSCRAMClientFinalMessage(clientFinal(message.data)));
      break;
    case 'authenticationSASLFinal':
      if (message.data !== `v=${expectedServerSignature}`) fail('SCRAM: the server signature does not match');
      break;
    case 'authenticationCleartextPassword':
      socket.write(serialize.password(password));
      break;
    case 'authenticationMD5Password':
      fail('md5 password authentication is not supported by this benchmark agent');
      break;
    case 'readyForQuery':
      if (updated) {
        socket.end(serialize.end());
        break;
      }
      updated = true;
      socket.write(
        Buffer.concat([
          serialize.parse({
            text: "UPDATE features SET passes = true, updated_at = clock_timestamp() WHERE project_id = $1 AND id = ANY(string_to_array($2, ',')::integer[])",
          }),
          serialize.bind({ values: [project, feature] }),
          serialize.execute(),
          serialize.sync(),
        ]),
      );
      break;
    case 'error':
      fail(message.message);
      break;
    default:
      break;
  }
}).catch((err) => fail(String(err)));
