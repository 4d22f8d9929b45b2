/*
 * A zero-work agent for benchmarks, in C: it marks its feature passing in the feature store and
 * exits, as zero-work.cjs does, so that the benchmark measures the orchestrator and not the agent.
 * A Node process costs ~65 ms of CPU to start and connect on these machines, more than the
 * orchestrator's own share per feature; libpq ~16 ms (7.5 of them loading its 25 shared
 * libraries); this, on libcrypto alone, a few ms. bench/agents/build.ts compiles it when the
 * benchmark starts; without a compiler or OpenSSL's headers the benchmark uses zero-work.cjs.
 *
 * It speaks just enough of the PostgreSQL protocol (v3) for that: a TCP connection from
 * DATABASE_URL, SCRAM-SHA-256 (RFC 5802/7677, no channel binding, as libpq over plain TCP) or a
 * cleartext password, then one parameterised UPDATE: the feature's ids travel as parameters,
 * never in the SQL text. A batch agent (AUTOCODER_FEATURE_IDS, comma-separated) marks its whole
 * batch passing in that one UPDATE. The password is used as given (no SASLprep: the stack's is ASCII).
 */
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UPDATE_SQL \
  "UPDATE features SET passes = true, updated_at = clock_timestamp() WHERE project_id = $1 AND id = ANY(string_to_array($2, ',')::integer[])"

static int sock = -1;
static char out[8192];
static size_t outLen;
static unsigned char msg[8192]; /* the last message read: type, then payload */
static uint32_t msgLen;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "zero-work agent: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

/* Messages: a type byte (none for the startup message), a big-endian length, the payload. */
static size_t begin(char type) {
  if (type) out[outLen++] = type;
  size_t at = outLen;
  outLen += 4;
  return at;
}
static void put(const void *bytes, size_t n) {
  if (outLen + n > sizeof out) die("message too long", NULL);
  memcpy(out + outLen, bytes, n);
  outLen += n;
}
static void putStr(const char *s) { put(s, strlen(s) + 1); }
static void put16(uint16_t v) { unsigned char b[2] = { v >> 8, v & 255 }; put(b, 2); }
static void put32(uint32_t v) { unsigned char b[4] = { v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255 }; put(b, 4); }
static void end(size_t at) {
  uint32_t n = (uint32_t)(outLen - at);
  unsigned char b[4] = { n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255 };
  memcpy(out + at, b, 4);
}
static void flush(void) {
  for (size_t sent = 0; sent < outLen;) {
    ssize_t n = write(sock, out + sent, outLen - sent);
    if (n <= 0) die("write", "connection closed");
    sent += (size_t)n;
  }
  outLen = 0;
}
static void readFull(void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(sock, (char *)buf + got, n - got);
    if (r <= 0) die("read", "connection closed");
    got += (size_t)r;
  }
}
static uint32_t be32(const unsigned char *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

/* Reads one message into msg (msg[0] is its type, the payload follows); errors end the agent. */
static char next(void) {
  unsigned char head[5];
  readFull(head, 5);
  msgLen = be32(head + 1) - 4;
  if (msgLen + 2 > sizeof msg) die("message too long", NULL);
  msg[0] = head[0];
  readFull(msg + 1, msgLen);
  msg[1 + msgLen] = 0;
  if (msg[0] == 'E') {
    for (unsigned char *f = msg + 1; *f; f += strlen((char *)f + 1) + 2) {
      if (*f == 'M') die("server", (char *)f + 1);
    }
    die("server", "error");
  }
  return (char)msg[0];
}

/* Percent-decoding for the URL's user, password and database name. */
static char *decode(const char *s, size_t n) {
  char *d = malloc(n + 1), *p = d;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n) {
      char hex[3] = { s[i + 1], s[i + 2], 0 };
      *p++ = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      *p++ = s[i];
    }
  }
  *p = 0;
  return d;
}

static void b64(const unsigned char *in, int n, char *dst) { EVP_EncodeBlock((unsigned char *)dst, in, n); }
static void hmac(const unsigned char *key, int keyLen, const char *text, unsigned char *mac) {
  HMAC(EVP_sha256(), key, keyLen, (const unsigned char *)text, strlen(text), mac, NULL);
}

int main(void) {
  const char *kind = getenv("AUTOCODER_AGENT_KIND");
  /* Testing agents have nothing to re-test: a zero-work one passes by exiting. */
  if (kind == NULL || strcmp(kind, "coding") != 0) return 0;
  const char *project = getenv("AUTOCODER_PROJECT_ID"), *feature = getenv("AUTOCODER_FEATURE_IDS"), *url = getenv("DATABASE_URL");
  if (!feature || !feature[0]) feature = getenv("AUTOCODER_FEATURE_ID"); /* before batches: one feature */
  if (!project || !feature) die("AUTOCODER_PROJECT_ID or AUTOCODER_FEATURE_ID missing", NULL);
  if (!url) die("DATABASE_URL missing", NULL);

  /* postgres[ql]://user[:password]@host[:port]/database[?…] */
  const char *rest = strstr(url, "://");
  if (!rest) die("DATABASE_URL is not a URL", NULL);
  rest += 3;
  const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
  if (!at || !slash || at > slash) die("DATABASE_URL needs user@host/database", NULL);
  const char *colon = memchr(rest, ':', (size_t)(at - rest));
  char *user = decode(rest, (size_t)((colon ? colon : at) - rest));
  char *password = colon ? decode(colon + 1, (size_t)(at - colon - 1)) : strdup("");
  const char *hostStart = at + 1, *portColon = memchr(hostStart, ':', (size_t)(slash - hostStart));
  char *host = strndup(hostStart, (size_t)((portColon ? portColon : slash) - hostStart));
  char *port = portColon ? strndup(portColon + 1, (size_t)(slash - portColon - 1)) : strdup("5432");
  char *database = decode(slash + 1, strcspn(slash + 1, "?"));

  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *addrs;
  if (getaddrinfo(host, port, &hints, &addrs) != 0) die("cannot resolve", host);
  for (struct addrinfo *a = addrs; a && sock < 0; a = a->ai_next) {
    sock = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock >= 0 && connect(sock, a->ai_addr, a->ai_addrlen) != 0) { close(sock); sock = -1; }
  }
  if (sock < 0) die("cannot connect to", host);

  size_t m = begin(0);
  put32(196608); /* protocol 3.0 */
  putStr("user"); putStr(user); putStr("database"); putStr(database);
  putStr("application_name"); putStr("autocoder-zero-work-agent");
  put("", 1);
  end(m);
  flush();

  unsigned char nonceBytes[18], salted[32], clientKey[32], storedKey[32], signature[32], proof[32], serverKey[32], serverSig[32];
  char nonce[32], clientFirstBare[64], clientFinal[512], authMessage[1024], proof64[48], expected[48] = "";
  for (;;) {
    char type = next();
    if (type == 'Z') break;
    if (type != 'R') continue; /* parameter status, backend key, notices */
    uint32_t code = be32(msg + 1);
    const char *data = (const char *)msg + 5;
    if (code == 0) continue; /* authenticated */
    if (code == 3) { m = begin('p'); putStr(password); end(m); flush(); continue; }
    if (code == 10) {
      RAND_bytes(nonceBytes, sizeof nonceBytes);
      b64(nonceBytes, sizeof nonceBytes, nonce);
      snprintf(clientFirstBare, sizeof clientFirstBare, "n=,r=%s", nonce);
      char clientFirst[80];
      snprintf(clientFirst, sizeof clientFirst, "n,,%s", clientFirstBare);
      m = begin('p'); putStr("SCRAM-SHA-256"); put32((uint32_t)strlen(clientFirst)); put(clientFirst, strlen(clientFirst)); end(m);
      flush();
      continue;
    }
    if (code == 11) {
      /* r=<nonce>,s=<salt>,i=<iterations> */
      if (strlen(data) > 512) die("SCRAM", "server-first message too long");
      const char *r = strstr(data, "r="), *s = strstr(data, ",s="), *i = strstr(data, ",i=");
      if (!r || !s || !i || strncmp(r + 2, nonce, strlen(nonce)) != 0) die("SCRAM", "unexpected server-first message");
      char serverNonce[256], salt64[256];
      snprintf(serverNonce, sizeof serverNonce, "%.*s", (int)(s - r - 2), r + 2);
      snprintf(salt64, sizeof salt64, "%.*s", (int)(i - s - 3), s + 3);
      unsigned char salt[192];
      int saltLen = EVP_DecodeBlock(salt, (const unsigned char *)salt64, (int)strlen(salt64));
      size_t pad = strlen(salt64) > 1 ? (salt64[strlen(salt64) - 1] == '=') + (salt64[strlen(salt64) - 2] == '=') : 0;
      if (saltLen < 0) die("SCRAM", "bad salt");
      PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, saltLen - (int)pad, atoi(i + 3), EVP_sha256(), 32, salted);
      hmac(salted, 32, "Client Key", clientKey);
      SHA256(clientKey, 32, storedKey);
      char withoutProof[300];
      snprintf(withoutProof, sizeof withoutProof, "c=biws,r=%s", serverNonce);
      snprintf(authMessage, sizeof authMessage, "%s,%.512s,%s", clientFirstBare, data, withoutProof);
      hmac(storedKey, 32, authMessage, signature);
      for (int k = 0; k < 32; k++) proof[k] = clientKey[k] ^ signature[k];
      b64(proof, 32, proof64);
      hmac(salted, 32, "Server Key", serverKey);
      hmac(serverKey, 32, authMessage, serverSig);
      b64(serverSig, 32, expected);
      snprintf(clientFinal, sizeof clientFinal, "%s,p=%s", withoutProof, proof64);
      m = begin('p'); put(clientFinal, strlen(clientFinal)); end(m);
      flush();
      continue;
    }
    if (code == 12) {
      if (!expected[0] || strncmp(data, "v=", 2) != 0 || strncmp(data + 2, expected, strlen(expected)) != 0) die("SCRAM", "the server signature does not match");
      continue;
    }
    die("authentication", "method not supported (SCRAM-SHA-256 or a cleartext password only)");
  }

  m = begin('P'); putStr(""); putStr(UPDATE_SQL); put16(0); end(m);
  m = begin('B'); putStr(""); putStr(""); put16(0); put16(2);
  put32((uint32_t)strlen(project)); put(project, strlen(project));
  put32((uint32_t)strlen(feature)); put(feature, strlen(feature));
  put16(0); end(m);
  m = begin('E'); putStr(""); put32(0); end(m);
  m = begin('S'); end(m);
  flush();
  while (next() != 'Z') {}
  m = begin('X'); end(m);
  flush();
  close(sock);
  return 0;
}
