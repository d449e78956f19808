// Google Benchmark: the per-request crypto of the gateway, against OpenSSL's one-shot HMAC()
// measured in the same run as the baseline.
//   build/release/libs/crypto/crypto_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "tradepipe/crypto/crypto.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"

namespace {

const std::string kKey = "tradepipe-demo-secret";
const std::string kBody(300, 'x');  // a typical signal body

void BM_OneShotHmacBaseline(benchmark::State& state) {
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()), reinterpret_cast<const unsigned char*>(kBody.data()),
         kBody.size(), out, &len);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_OneShotHmacBaseline);

// The previous implementation (a new EVP_MAC_CTX per call, keyed each time), kept here as the
// same-run "before" of the context reuse in HmacSha256.
tradepipe::crypto::Sha256Digest HmacNewContextPerCall(std::string_view key,
                                                      std::initializer_list<std::string_view> parts) {
  static thread_local EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0), OSSL_PARAM_construct_end()};
  tradepipe::crypto::Sha256Digest out{};
  size_t out_len = 0;
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params);
  for (auto part : parts) EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  EVP_MAC_final(ctx, out.data(), &out_len, out.size());
  EVP_MAC_CTX_free(ctx);
  return out;
}

void BM_HmacNewContextPerCall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(HmacNewContextPerCall(kKey, {"msg_1", ".", "1700000000", ".", kBody}));
}
BENCHMARK(BM_HmacNewContextPerCall);

void BM_HmacSha256(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(tradepipe::crypto::HmacSha256(kKey, {"msg_1", ".", "1700000000", ".", kBody}));
}
BENCHMARK(BM_HmacSha256);

// SHA-256 of the body (the idempotency fingerprint): OpenSSL's one-shot EVP_Digest, the previous
// implementation and the same-run baseline, against Sha256 with a fetched digest per thread.
void BM_Sha256OneShotBaseline(benchmark::State& state) {
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_Digest(kBody.data(), kBody.size(), out, &len, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Sha256OneShotBaseline);

void BM_Sha256(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(tradepipe::crypto::Sha256(kBody));
}
BENCHMARK(BM_Sha256);

void BM_StandardWebhooksVerify(benchmark::State& state) {
  const std::vector<std::string> keys = {kKey};
  const std::string sig = tradepipe::crypto::Sign(kKey, "msg_1", "1700000000", kBody);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tradepipe::crypto::Verify(keys, "msg_1", "1700000000", sig, kBody, 1700000000, 300));
  }
}
BENCHMARK(BM_StandardWebhooksVerify);

}  // namespace

BENCHMARK_MAIN();
