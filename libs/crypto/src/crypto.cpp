#include "tradepipe/crypto/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace tradepipe::crypto {

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  // One MAC context per thread, created once with its digest set, and re-keyed only when the key
  // changes (OpenSSL 3 reuses the previous key when EVP_MAC_init gets none): most requests of a
  // source use the same secret. See libs/crypto/bench for the measured effect.
  struct ThreadMac {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = nullptr;
    std::string key;
    bool keyed = false;
    ThreadMac() {
      ctx = EVP_MAC_CTX_new(mac);
      char digest_name[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
                                   OSSL_PARAM_construct_end()};
      if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1)
        throw std::runtime_error("HMAC-SHA256 set-up failed");
    }
    ~ThreadMac() {
      EVP_MAC_CTX_free(ctx);
      EVP_MAC_free(mac);
    }
  };
  static thread_local ThreadMac mac;
  bool ok = true;
  if (mac.keyed && ConstantTimeEquals(mac.key, key)) {
    ok = EVP_MAC_init(mac.ctx, nullptr, 0, nullptr) == 1;
  } else {
    ok = EVP_MAC_init(mac.ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr) == 1;
    mac.key.assign(key);
    mac.keyed = ok;
  }
  for (std::string_view part : parts) {
    ok = ok && EVP_MAC_update(mac.ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  }
  Sha256Digest out{};
  size_t out_len = 0;
  ok = ok && EVP_MAC_final(mac.ctx, out.data(), &out_len, out.size()) == 1;
  if (!ok || out_len != out.size()) throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

Sha256Digest Sha256(std::string_view bytes) {
  // The digest fetched once and one context per thread: EVP_Digest(EVP_sha256()) looks the
  // algorithm up again on every call (OpenSSL 3), which cost as much as the hashing (crypto_bench).
  struct ThreadDigest {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~ThreadDigest() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  static thread_local ThreadDigest digest;
  Sha256Digest out{};
  unsigned int len = 0;
  const bool ok = digest.md != nullptr && digest.ctx != nullptr &&
                  EVP_DigestInit_ex2(digest.ctx, digest.md, nullptr) == 1 &&
                  EVP_DigestUpdate(digest.ctx, bytes.data(), bytes.size()) == 1 &&
                  EVP_DigestFinal_ex(digest.ctx, out.data(), &len) == 1;
  if (!ok || len != out.size()) throw std::runtime_error("SHA-256 failed");
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tradepipe::crypto
