/**
 * `inkwell certs`: development certificates, made with node-forge (nothing outside npm).
 *
 * Writes a CA, a server certificate signed by it naming the given hosts in its subjectAltName
 * (DNS names as dNSName, addresses as iPAddress, which is what hostname checks compare), and a
 * client certificate for mutual TLS. RSA 2048 keys come from Node's crypto (native and fast;
 * forge's pure-JS generation takes seconds), certificates are signed with SHA-256, and private
 * keys are written with mode 0600.
 */
import { generateKeyPair as generateKeyPairCallback, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { Type } from '@sinclair/typebox';
import { UsageError, CliError } from './errors.js';
import { parseFlags } from './flags.js';

const generateKeyPair = promisify(generateKeyPairCallback);

export const certificateFileNames = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server-cert.pem',
  serverKey: 'server-key.pem',
  clientCert: 'client-cert.pem',
  clientKey: 'client-key.pem',
} as const;

export type CertificateFile = keyof typeof certificateFileNames;
export type CertificatePaths = Record<CertificateFile, string>;

export const defaultCertificateDirectory = 'certs';
export const defaultCertificateHosts: readonly string[] = ['localhost', '127.0.0.1', '::1'];
export const defaultCertificateDays = 365;
/** A hundred years: beyond this a "development" certificate is a mistake. */
export const certificateDaysMax = 36_500;
export const rsaModulusBits = 2048;
/** Certificates start this far in the past, so a client whose clock runs a little behind accepts them. */
const clockSkewMs = 5 * 60 * 1000;
const dayMs = 24 * 60 * 60 * 1000;
const hostsMax = 100;

export interface CertificateOptions {
  /** Directory to write into (created if missing). */
  readonly out: string;
  /** Host names and IP addresses the server certificate is valid for; the first is its common name. */
  readonly hosts: readonly string[];
  /** Validity in days. */
  readonly days: number;
  /** Overwrite existing files instead of refusing. */
  readonly force?: boolean;
}

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

/** A DNS name (a leading `*.` wildcard allowed). */
const dnsNamePattern = /^(?:\*\.)?(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Why a host cannot go in a certificate, or null when it can. */
export function hostProblem(host: string): string | null {
  if (net.isIP(host) !== 0 || dnsNamePattern.test(host)) return null;
  return `${JSON.stringify(host)} is neither a DNS name nor an IP address`;
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

function altName(host: string): AltName {
  return net.isIP(host) !== 0 ? { type: 7, ip: host } : { type: 2, value: host };
}

/** A random positive 128-bit serial number, as hex (the top bit cleared keeps DER from reading it as negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

interface KeyPair {
  readonly privateKeyPem: string;
  readonly privateKey: forge.pki.rsa.PrivateKey;
  readonly publicKey: forge.pki.rsa.PublicKey;
}

async function rsaKeyPair(): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', {
    modulusLength: rsaModulusBits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKeyPem: privateKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
  };
}

interface CertificateRequest {
  readonly commonName: string;
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly days: number;
}

function unsignedCertificate(request: CertificateRequest): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = request.publicKey;
  certificate.serialNumber = serialNumber();
  const now = Date.now();
  certificate.validity.notBefore = new Date(now - clockSkewMs);
  certificate.validity.notAfter = new Date(now + request.days * dayMs);
  certificate.setSubject([
    { name: 'commonName', value: request.commonName },
    { name: 'organizationName', value: 'Inkwell development' },
  ]);
  return certificate;
}

interface Signer {
  readonly certificate: forge.pki.Certificate;
  readonly privateKey: forge.pki.rsa.PrivateKey;
}

function sign(certificate: forge.pki.Certificate, extensions: object[], signer: Signer): string {
  certificate.setIssuer(signer.certificate.subject.attributes);
  certificate.setExtensions(extensions);
  certificate.sign(signer.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

function leafExtensions(ca: forge.pki.Certificate, usage: 'serverAuth' | 'clientAuth', altNames: AltName[]): object[] {
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', [usage]: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ];
}

/** The PEM texts of a CA, a server certificate and a client certificate, with their keys. */
export async function createCertificates(hosts: readonly string[], days: number): Promise<Record<CertificateFile, string>> {
  if (hosts.length === 0) throw new CertificateError('at least one host is needed for the server certificate');
  if (hosts.length > hostsMax) throw new CertificateError(`${hosts.length} hosts is more than the ${hostsMax} allowed`);
  for (const host of hosts) {
    const problem = hostProblem(host);
    if (problem !== null) throw new CertificateError(problem);
  }
  if (!Number.isInteger(days) || days < 1 || days > certificateDaysMax) throw new CertificateError(`days must be a whole number from 1 to ${certificateDaysMax}, got ${days}`);
  const [caKeys, serverKeys, clientKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair(), rsaKeyPair()]);

  const ca = unsignedCertificate({ commonName: 'Inkwell development CA', publicKey: caKeys.publicKey, days });
  const caPem = sign(
    ca,
    [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
    { certificate: ca, privateKey: caKeys.privateKey },
  );
  const signer: Signer = { certificate: ca, privateKey: caKeys.privateKey };

  const server = unsignedCertificate({ commonName: hosts[0]!, publicKey: serverKeys.publicKey, days });
  const serverPem = sign(server, leafExtensions(ca, 'serverAuth', hosts.map(altName)), signer);

  const client = unsignedCertificate({ commonName: 'inkwell-client', publicKey: clientKeys.publicKey, days });
  const clientPem = sign(client, leafExtensions(ca, 'clientAuth', []), signer);

  return {
    caCert: caPem,
    caKey: caKeys.privateKeyPem,
    serverCert: serverPem,
    serverKey: serverKeys.privateKeyPem,
    clientCert: clientPem,
    clientKey: clientKeys.privateKeyPem,
  };
}

export function certificatePaths(out: string): CertificatePaths {
  const paths = {} as CertificatePaths;
  for (const file of Object.keys(certificateFileNames) as CertificateFile[]) paths[file] = join(out, certificateFileNames[file]);
  return paths;
}

/**
 * Writes the CA, server and client certificates and keys into `out`. Refuses, before writing
 * anything, when any of the files exists, unless `force`.
 */
export async function generateCertificates(options: CertificateOptions): Promise<CertificatePaths> {
  const paths = certificatePaths(options.out);
  const existing = Object.values(paths).filter((path) => existsSync(path));
  if (existing.length > 0 && options.force !== true) {
    throw new CertificateError(`refusing to overwrite ${existing.join(', ')} (use --force to replace them)`);
  }
  const pems = await createCertificates(options.hosts, options.days);
  await mkdir(options.out, { recursive: true });
  for (const file of Object.keys(paths) as CertificateFile[]) {
    const isKey = file.endsWith('Key');
    // Removing first means a new key file is created with mode 0600 rather than inheriting the old file's mode.
    if (options.force === true) await rm(paths[file], { force: true });
    await writeFile(paths[file], pems[file], { mode: isKey ? 0o600 : 0o644, flag: 'wx' });
  }
  return paths;
}

const CertsFlags = Type.Object({
  out: Type.Optional(Type.String({ minLength: 1, expected: 'a directory' })),
  hosts: Type.Optional(Type.String({ pattern: '\\S', expected: 'a comma-separated list of host names and IP addresses' })),
  days: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', expected: `a whole number of days from 1 to ${certificateDaysMax}` })),
  force: Type.Optional(Type.Boolean()),
  help: Type.Optional(Type.Boolean({ short: 'h' })),
});

export const certsUsage = `Usage: inkwell certs [--out DIR] [--hosts LIST] [--days N] [--force]

Writes development certificates (RSA ${rsaModulusBits}, SHA-256):
  ca-cert.pem, ca-key.pem           a certificate authority
  server-cert.pem, server-key.pem   a server certificate signed by it, for the hosts given
  client-cert.pem, client-key.pem   a client certificate signed by it, for mutual TLS

Options:
  --out DIR      directory to write into (default: ${defaultCertificateDirectory})
  --hosts LIST   host names and IP addresses for the server certificate, comma-separated
                 (default: ${defaultCertificateHosts.join(',')})
  --days N       validity in days (default: ${defaultCertificateDays})
  --force        replace existing files
  -h, --help     show this help
`;

/** `inkwell certs ...`; returns the exit code. */
export async function runCerts(args: readonly string[]): Promise<number> {
  const flags = parseFlags('certs', args, CertsFlags);
  if (flags.help === true) {
    process.stdout.write(certsUsage);
    return 0;
  }
  const out = flags.out ?? defaultCertificateDirectory;
  const hosts = flags.hosts === undefined ? defaultCertificateHosts : flags.hosts.split(',').map((host) => host.trim().replace(/^\[(.*)\]$/, '$1'));
  for (const host of hosts) {
    const problem = hostProblem(host);
    if (problem !== null) throw new UsageError(`certs: --hosts: ${problem}`);
  }
  const days = flags.days === undefined ? defaultCertificateDays : Number(flags.days);
  if (days < 1 || days > certificateDaysMax) throw new UsageError(`certs: --days must be a whole number of days from 1 to ${certificateDaysMax}, got ${days}`);
  let paths: CertificatePaths;
  try {
    paths = await generateCertificates({ out, hosts, days, force: flags.force === true });
  } catch (error) {
    if (error instanceof CertificateError) throw new CliError(`certs: ${error.message}`);
    throw error;
  }
  for (const path of Object.values(paths)) process.stdout.write(`wrote ${path}\n`);
  return 0;
}
