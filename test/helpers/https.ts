// A fetch-shaped HTTPS request that trusts the test CA (Node's fetch takes no CA without
// undici's dispatcher): status and the JSON body, for tests of the REST API.
import { request } from 'node:https';
import { TEST_CA } from './tls.js';

export interface HttpsInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** A client certificate to present (PEM). */
  cert?: string;
  key?: string;
  signal?: AbortSignal;
}

export interface HttpsAnswer {
  status: number;
  text: string;
  json(): Promise<unknown>;
}

export function httpsFetch(url: string, init: HttpsInit = {}, ca: string = TEST_CA.cert): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca, cert: init.cert, key: init.key, signal: init.signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: () => Promise.resolve(JSON.parse(text) as unknown) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
