// k6 load script: uniquely signed Standard Webhooks at a constant arrival rate (open loop).
//   k6 run -e RATE=500 -e DURATION=30s -e GATEWAY=http://127.0.0.1:8001 loadtests/k6/webhooks.js
// Uses the DEMO source and key (gateway --demo). Every request has its own webhook-id, so none
// is an idempotent replay (unlike `hey`, which repeats one request).
import http from 'k6/http';
import { check } from 'k6';
import { keyOf, signedWebhook } from './lib/webhook.js';

const GATEWAY = __ENV.GATEWAY || 'http://127.0.0.1:8001';
const SOURCE = __ENV.SOURCE || 'demo';
const KEY = keyOf(__ENV.SECRET || 'whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0');

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
  const { body, headers } = signedWebhook(KEY, 'k6', __VU, __ITER);
  const res = http.post(`${GATEWAY}/webhook/${SOURCE}`, body, { headers });
  check(res, { 'accepted (202)': (r) => r.status === 202 });
}
