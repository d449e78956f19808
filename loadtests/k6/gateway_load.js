// k6: the baseline document's test types against the gateway, with its CI gates as thresholds.
//   k6 run -e TEST_TYPE=smoke loadtests/k6/gateway_load.js     # smoke | load | stress | spike | soak
//   k6 run -e TEST_TYPE=load -e SCALE=0.1 loadtests/k6/gateway_load.js   # durations x0.1
// Test types (../shared/reference/performance-baseline.md, "Performance Test Types"): smoke 10
// users 5 min, load 100 users 30 min (30 s ramp-up), stress 500 users 15 min, spike 10 -> 200
// users at once for 10 min, soak 50 users 2 h. Thresholds are its CI gates: p95 < 100 ms,
// errors < 0.1 %, more than 400 requests/s (memory growth is measured by loadtests/baseline).
// Every request is uniquely signed (DEMO key unless SECRET is set): none is a replay.
import http from 'k6/http';
import { check } from 'k6';
import { keyOf, signedWebhook } from './lib/webhook.js';

const GATEWAY = __ENV.GATEWAY || 'http://127.0.0.1:8001';
const SOURCE = __ENV.SOURCE || 'demo';
const KEY = keyOf(__ENV.SECRET || 'whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0');
const SCALE = Number(__ENV.SCALE || 1);

/** @param {number} minutes */
function span(minutes) {
  return `${Math.max(1, Math.round(minutes * 60 * SCALE))}s`;
}

/** @type {Record<string, import('k6/options').Scenario>} */
const TEST_TYPES = {
  smoke: { executor: 'constant-vus', vus: 10, duration: span(5) },
  load: {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: [
      { duration: span(0.5), target: 100 },
      { duration: span(29.5), target: 100 },
    ],
  },
  stress: { executor: 'constant-vus', vus: 500, duration: span(15) },
  spike: {
    executor: 'ramping-vus',
    startVUs: 10,
    stages: [
      { duration: span(1), target: 10 },
      { duration: '1s', target: 200 },
      { duration: span(9), target: 200 },
    ],
  },
  soak: { executor: 'constant-vus', vus: 50, duration: span(120) },
};

const TEST_TYPE = __ENV.TEST_TYPE || 'smoke';
if (!(TEST_TYPE in TEST_TYPES)) {
  throw new Error(`TEST_TYPE must be one of ${Object.keys(TEST_TYPES).join(', ')}, not ${TEST_TYPE}`);
}

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { [TEST_TYPE]: TEST_TYPES[TEST_TYPE] },
  thresholds: {
    http_req_duration: ['p(95)<100'],
    http_req_failed: ['rate<0.001'],
    http_reqs: ['rate>400'],
  },
};

export default function () {
  const { body, headers } = signedWebhook(KEY, `k6${TEST_TYPE}`, __VU, __ITER);
  const res = http.post(`${GATEWAY}/webhook/${SOURCE}`, body, { headers });
  check(res, { 'accepted (202)': (r) => r.status === 202 });
}
