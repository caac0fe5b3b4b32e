// Part of scripts/install.sh: checks the settings given to the installer and prints the first
// /etc/charger-agent/config.json they make. A bad value is one line on stderr naming the option,
// and exit 1, before install.sh changes anything. The Basic Auth password comes on stdin (never
// in an argument list), is never printed except inside the config, and never echoed in an error.
// The rules are the agent's own (src/config/agent-config.ts); when the release holds the
// compiled loader (--loader), the config is also put through it.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

class Bad extends Error {}

function bad(option, expected, got) {
  throw new Bad(`${option}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (!key?.startsWith('--') || value === undefined) throw new Error(`install-config: bad argument ${JSON.stringify(key)}`);
    opts[key.slice(2)] = value;
  }
  return opts;
}

function ciString(option, value, max) {
  if (value.length < 1 || value.length > max) bad(option, `1..${max} characters`, value);
  if (!/^[\x20-\x7e]*$/.test(value)) bad(option, 'printable ASCII characters', value);
  return value;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function readPem(option, file) {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Bad(`${option}: cannot read ${file} (${err.code ?? err.message})`);
  }
}

/** Both or neither, for profile 3 only: a PEM certificate and the unencrypted PEM key that belongs to it. */
function clientPair(certFile, keyFile, securityProfile) {
  if (certFile === '' && keyFile === '') return false;
  if (keyFile === '') throw new Bad('--client-key: needed with --client-cert (the private key of that certificate)');
  if (certFile === '') throw new Bad('--client-cert: needed with --client-key (the certificate of that key)');
  if (securityProfile !== 3) throw new Bad('--client-cert: a client certificate is for security profile 3 (give --security-profile 3)');
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(readPem('--client-cert', certFile))?.[0];
  let cert;
  try {
    cert = new X509Certificate(block ?? '');
  } catch {
    throw new Bad(`--client-cert: ${certFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const keyText = readPem('--client-key', keyFile);
  let key;
  try {
    if (!keyText.includes('-----BEGIN')) throw new Error('not PEM');
    key = createPrivateKey(keyText);
  } catch {
    // Never the file's content: it is a private key.
    throw new Bad(`--client-key: ${keyFile} holds no unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) throw new Bad(`--client-key: ${keyFile} is not the key of the certificate in ${certFile}`);
  return true;
}

async function build(o) {
  const chargePointId = o['charge-point-id'];
  if (!/^[A-Za-z0-9._~-]{1,48}$/.test(chargePointId)) bad('--charge-point-id', '1..48 characters from A-Z a-z 0-9 . _ ~ -', chargePointId);

  if (!/^[0-3]$/.test(o['security-profile'])) bad('--security-profile', '0, 1, 2 or 3', o['security-profile']);
  const securityProfile = Number(o['security-profile']);
  const clientCert = o['client-cert'] ?? '';
  const clientKey = o['client-key'] ?? '';
  // Nothing else can supply the charge point's certificate yet (CertificateSigned comes later).
  if (securityProfile === 3 && clientCert === '' && clientKey === '') {
    throw new Bad("--security-profile: profile 3 needs the charge point's client certificate: give --client-cert FILE and --client-key FILE");
  }

  const urlText = o['csms-url'];
  let url;
  try {
    url = new URL(urlText);
  } catch {
    bad('--csms-url', 'a ws:// or wss:// URL', urlText);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') bad('--csms-url', 'a ws:// or wss:// URL', urlText);
  if (url.username || url.password) throw new Bad('--csms-url: must not contain credentials (use --password-stdin)');
  if (url.hash) bad('--csms-url', 'a URL without a #fragment', urlText);
  if (securityProfile >= 2 && url.protocol !== 'wss:') bad('--csms-url', `a wss:// URL for security profile ${securityProfile}`, urlText);

  let basicAuthPassword = null;
  if (o['password-stdin'] === '1') {
    if (securityProfile !== 1 && securityProfile !== 2) throw new Bad('--password-stdin: a Basic Auth password is for security profiles 1 and 2 (give --security-profile)');
    // One line; its line ending is not part of the password.
    const text = (await readStdin()).split(/\r?\n/)[0] ?? '';
    if (text.length < 16 || text.length > 40 || !/^[\x20-\x7e]*$/.test(text)) {
      throw new Bad(`--password-stdin: expected 16..40 printable ASCII characters, got ${text.length === 0 ? 'nothing' : `${text.length} characters`}`);
    }
    basicAuthPassword = text;
  }

  let caFile = null;
  if (o['ca-file'] !== '') {
    if (url.protocol !== 'wss:') throw new Bad('--ca-file: a CA certificate is for wss:// URLs');
    let pem;
    try {
      pem = readFileSync(o['ca-file'], 'utf8');
    } catch (err) {
      throw new Bad(`--ca-file: cannot read ${o['ca-file']} (${err.code ?? err.message})`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Bad(`--ca-file: ${o['ca-file']} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    caFile = o['ca-dest'];
  }

  const client = clientPair(clientCert, clientKey, securityProfile);

  const port = o['serial-port'];
  if (!/^\/[A-Za-z0-9/._+-]+$/.test(port)) bad('--serial-port', 'an absolute device path such as /dev/ttyS1', port);

  const current = o['max-current'];
  if (!/^[0-9]{1,2}(\.[0-9])?$/.test(current) || Number(current) < 6 || Number(current) > 80) bad('--max-current', 'a current in A from 6 to 80 with at most one decimal', current);

  const identity = { vendor: ciString('--vendor', o.vendor, 20), model: ciString('--model', o.model, 20) };
  identity.serialNumber = o['serial-number'] === '' ? null : ciString('--serial-number', o['serial-number'], 25);

  return {
    chargePointId,
    csms: {
      url: urlText,
      securityProfile,
      basicAuthPassword,
      caFile,
      ...(client ? { clientCertFile: o['client-cert-dest'], clientKeyFile: o['client-key-dest'] } : {}),
    },
    controller: { port, baudRate: 115200, maxCurrentA: Number(current) },
    identity,
    dataDir: '/var/lib/charger-agent',
    diagnosticsSocket: '/run/charger-agent/diag.sock',
    logLevel: 'info',
  };
}

try {
  const opts = parseArgs(process.argv.slice(2));
  const cfg = await build(opts);
  if (opts.loader) {
    const { parseAgentConfig, ConfigError } = await import(pathToFileURL(opts.loader).href);
    try {
      // The copies are made after this check: the loader reads the files given.
      const given = cfg.csms.clientCertFile ? { ...cfg, csms: { ...cfg.csms, clientCertFile: opts['client-cert'], clientKeyFile: opts['client-key'] } } : cfg;
      parseAgentConfig(given);
    } catch (err) {
      if (err instanceof ConfigError) throw new Bad(err.message);
      throw err;
    }
  }
  process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
} catch (err) {
  if (!(err instanceof Bad)) throw err;
  process.stderr.write(`install: error: ${err.message}\n`);
  process.exit(1);
}
