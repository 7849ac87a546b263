// Keys for the cluster PKI: ECDSA P-256 through Node's WebCrypto (the provider @peculiar/x509
// signs with), stored as PKCS#8 PEM ("PRIVATE KEY"), which Node's tls and grpc-js read as is.
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export const subtle = webcrypto.subtle;
export const EC_ALGORITHM: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A key pair with its private half as PEM (what goes to disk). */
export interface KeyPair {
  keys: CryptoKeyPair;
  privateKeyPem: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const keys = (await subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']));
  return { keys, privateKeyPem: await privateKeyToPem(keys.privateKey) };
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Reads a P-256 private key (PKCS#8, or SEC1 "EC PRIVATE KEY" as openssl writes it) with its public half. */
export async function importKeyPair(pem: string): Promise<KeyPair> {
  const pub = createPublicKey(pem);
  const details = pub.asymmetricKeyDetails;
  if (pub.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw new Error(`the key is ${pub.asymmetricKeyType ?? 'unknown'} ${details?.namedCurve ?? ''}; the cluster PKI uses ECDSA P-256 keys`);
  }
  const spki = pub.export({ type: 'spki', format: 'der' });
  const pkcs8 = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, EC_ALGORITHM, true, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, EC_ALGORITHM, true, ['verify']);
  return { keys: { privateKey, publicKey }, privateKeyPem: await privateKeyToPem(privateKey) };
}
