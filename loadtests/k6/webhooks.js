// k6 load script: uniquely signed Standard Webhooks at a constant arrival rate (open loop).
//   k6 run -e RATE=500 -e DURATION=30s -e GATEWAY=http://127.0.0.1:8001 loadtests/k6/webhooks.js
// Uses the DEMO source and key (gateway --demo). Every request has its own webhook-id, so none
// is an idempotent replay (unlike `hey`, which repeats one request).
import http from 'k6/http';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import { check } from 'k6';

const GATEWAY = __ENV.GATEWAY || 'http://127.0.0.1:8001';
const SOURCE = __ENV.SOURCE || 'demo';
const SECRET = __ENV.SECRET || 'whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0';
const KEY = encoding.b64decode(SECRET.replace(/^whsec_/, ''));
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'BTCUSD'];

export const options = {
  scenarios: {
    webhooks: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || 500),
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      preAllocatedVUs: 50,
      maxVUs: 500,
    },
  },
  thresholds: { http_req_failed: ['rate<0.001'] },
};

export default function () {
  const id = `k6_${__VU}_${__ITER}_${Date.now()}`;
  const ts = Math.floor(Date.now() / 1000).toString();
  const body = JSON.stringify({
    symbol: SYMBOLS[__ITER % SYMBOLS.length],
    action: __ITER % 2 ? 'buy' : 'sell',
    qty: 1 + (__ITER % 10),
  });
  const signature = crypto.hmac('sha256', KEY, `${id}.${ts}.${body}`, 'base64');
  const res = http.post(`${GATEWAY}/webhook/${SOURCE}`, body, {
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${signature}`,
    },
  });
  check(res, { 'accepted (202)': (r) => r.status === 202 });
}
