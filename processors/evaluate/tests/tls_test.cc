// A judge at an https:// URL: the Debian cpp-httplib has OpenSSL support, so the evaluator talks
// TLS and verifies the server. Proven against a local HTTPS server with a certificate made here
// (self-signed, for 127.0.0.1): trusted through ca_cert_file it works; without it the system
// store does not know the certificate and the call fails.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "processors/evaluate/judge.h"
#include "processors/evaluate/tests/fake_servers.h"

namespace tracefeed::evaluate {
namespace {

class SelfSignedCert {
 public:
  SelfSignedCert() {
    _dir = std::filesystem::temp_directory_path() / ("tracefeed-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(_dir);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert, bc, -1);
    X509_EXTENSION_free(bc);
    X509_sign(cert, key, EVP_sha256());
    FILE* f = std::fopen(cert_path().c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_path().c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~SelfSignedCert() { std::filesystem::remove_all(_dir); }
  std::string cert_path() const { return (_dir / "cert.pem").string(); }
  std::string key_path() const { return (_dir / "key.pem").string(); }

 private:
  std::filesystem::path _dir;
};

TEST(JudgeTls, HttpsJudgeWithAVerifiedCertificate) {
  SelfSignedCert cert;
  httplib::SSLServer server(cert.cert_path().c_str(), cert.key_path().c_str());
  ASSERT_TRUE(server.is_valid());
  server.Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(testing::chat_reply(testing::verdict_json(true, "Over TLS.")), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread listener([&] { server.listen_after_bind(); });
  ASSERT_TRUE(testing::wait_until([&] { return server.is_running(); }));

  JudgeOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(port) + "/v1";
  o.api_key_env = "";
  o.max_retries = 0;
  o.timeout = std::chrono::seconds(5);
  o.ca_cert_file = cert.cert_path();
  auto judge = ChatCompletionsJudge::create(o);
  ASSERT_TRUE(judge.is_ok()) << judge.status().to_string();
  auto v = (*judge)->ask("prompt");
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  EXPECT_TRUE(v->yes);
  EXPECT_EQ(v->rationale, "Over TLS.");

  // The system CA store does not trust this certificate: verification is on, so this fails.
  o.ca_cert_file.clear();
  auto untrusted = ChatCompletionsJudge::create(o);
  ASSERT_TRUE(untrusted.is_ok());
  auto refused = (*untrusted)->ask("prompt");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("SSLServerVerification"), std::string::npos) << refused.status().to_string();

  // Close the judges' keep-alive connections first, or the server waits for them to time out.
  judge = Status::internal("closed");
  untrusted = Status::internal("closed");

  server.stop();
  listener.join();
}

}  // namespace
}  // namespace tracefeed::evaluate
