// In-memory client <-> server transport tests: every kex x cipher x MAC x host key, random
// chunking of the byte streams, re-keying with traffic in flight, tampering and wrong-state input.
#include <gtest/gtest.h>

#include <map>

#include "session/transport_pair.h"
#include "wire/messages.h"
#include "wire/writer.h"

namespace hashi::test {
namespace {

using transport::TransportConfig;

const std::vector<std::string> kKex = {
    "mlkem768x25519-sha256",      "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",          "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",         "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",         "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha256"};
const std::vector<std::string> kCiphers = {"chacha20-poly1305@openssh.com",
                                           "aes128-gcm@openssh.com",
                                           "aes256-gcm@openssh.com",
                                           "aes128-ctr",
                                           "aes192-ctr",
                                           "aes256-ctr"};
const std::vector<std::string> kMacs = {"hmac-sha2-256", "hmac-sha2-512",
                                        "hmac-sha2-256-etm@openssh.com",
                                        "hmac-sha2-512-etm@openssh.com"};

keys::KeyType type_for(const std::string& alg) { return *keys::key_type_for_algorithm(alg); }

TransportPair make_pair(const std::string& kex, const std::string& cipher, const std::string& mac,
                        const std::string& hk = "ssh-ed25519") {
  TransportConfig c = config_with(kex, cipher, mac, hk);
  TransportConfig s = c;
  s.host_keys.push_back(std::make_shared<keys::PrivateKey>(test_host_key(type_for(hk))));
  return TransportPair(std::move(c), std::move(s));
}

Bytes message(uint8_t type, std::string_view body) {
  Bytes m;
  wire::Writer(m).u8(type).raw(body);
  return m;
}

void exchange_messages(TransportPair& p, size_t count, size_t size) {
  size_t before_c = p.client_events.messages.size();
  size_t before_s = p.server_events.messages.size();
  for (size_t i = 0; i < count; ++i) {
    std::string body(size, char('a' + i % 26));
    p.client->send(message(94, body));
    p.server->send(message(95, body));
  }
  ASSERT_TRUE(p.pump()) << p.client_status.message() << " / " << p.server_status.message();
  ASSERT_EQ(p.server_events.messages.size(), before_s + count);
  ASSERT_EQ(p.client_events.messages.size(), before_c + count);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(p.server_events.messages[before_s + i],
              message(94, std::string(size, char('a' + i % 26))));
    EXPECT_EQ(p.client_events.messages[before_c + i],
              message(95, std::string(size, char('a' + i % 26))));
  }
}

TEST(TransportSession, EveryKexMethod) {
  for (const auto& kex : kKex) {
    SCOPED_TRACE(kex);
    auto p = make_pair(kex, "aes128-ctr", "hmac-sha2-256-etm@openssh.com");
    ASSERT_TRUE(p.handshake()) << p.client_status.message() << " / " << p.server_status.message();
    EXPECT_EQ(p.client_events.kex_completions, 1);
    EXPECT_EQ(p.server_events.kex_completions, 1);
    EXPECT_EQ(p.client->session_id(), p.server->session_id());
    EXPECT_TRUE(p.client->strict_kex());
    exchange_messages(p, 3, 100);
  }
}

TEST(TransportSession, EveryCipherAndMac) {
  for (const auto& cipher : kCiphers) {
    for (const auto& mac : kMacs) {
      SCOPED_TRACE(cipher + " " + mac);
      auto p = make_pair("curve25519-sha256", cipher, mac);
      ASSERT_TRUE(p.handshake()) << p.client_status.message() << " / "
                                 << p.server_status.message();
      exchange_messages(p, 5, 1000);
      exchange_messages(p, 2, 40000);
    }
  }
}

TEST(TransportSession, EveryHostKeyAlgorithm) {
  for (std::string hk : {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                         "ecdsa-sha2-nistp521", "rsa-sha2-256", "rsa-sha2-512"}) {
    SCOPED_TRACE(hk);
    auto p = make_pair("curve25519-sha256", "aes256-gcm@openssh.com", "hmac-sha2-256", hk);
    ASSERT_TRUE(p.handshake()) << p.client_status.message() << " / " << p.server_status.message();
    ASSERT_TRUE(p.client->host_key().has_value());
    EXPECT_EQ(p.client->host_key()->blob(), test_host_key(type_for(hk)).public_key().blob());
  }
}

TEST(TransportSession, RandomChunkingOfEveryStream) {
  for (size_t max_chunk : {1, 3, 17, 1000}) {
    for (const auto& cipher : kCiphers) {
      SCOPED_TRACE(cipher + " chunk " + std::to_string(max_chunk));
      auto p = make_pair("curve25519-sha256", cipher, "hmac-sha2-512");
      p.max_chunk = max_chunk;
      p.rng.seed(unsigned(max_chunk * 31 + cipher.size()));
      ASSERT_TRUE(p.handshake());
      exchange_messages(p, 4, 3000);
      p.client->request_rekey();
      exchange_messages(p, 4, 3000);
      EXPECT_EQ(p.client->kex_count(), 2u);
    }
  }
}

TEST(TransportSession, RekeyByBytesWithTrafficInFlight) {
  TransportConfig c = config_with("curve25519-sha256", "chacha20-poly1305@openssh.com", "none",
                                  "ssh-ed25519");
  c.rekey_bytes = 64 * 1024;
  TransportConfig s = c;
  s.rekey_bytes = 100 * 1024;
  s.host_keys.push_back(std::make_shared<keys::PrivateKey>(test_host_key(keys::KeyType::kEd25519)));
  TransportPair p(std::move(c), std::move(s));
  ASSERT_TRUE(p.handshake());
  // Both sides keep sending while re-keys start on either side; nothing is lost or reordered.
  for (int round = 0; round < 20; ++round) exchange_messages(p, 10, 2000);
  EXPECT_GE(p.client->kex_count(), 5u);
  EXPECT_EQ(p.client->kex_count(), p.server->kex_count());
}

TEST(TransportSession, RekeyByTime) {
  TransportConfig c = config_with("curve25519-sha256", "aes128-gcm@openssh.com", "none",
                                  "ssh-ed25519");
  TransportConfig s = c;
  s.rekey_interval = std::chrono::seconds(10);
  s.host_keys.push_back(std::make_shared<keys::PrivateKey>(test_host_key(keys::KeyType::kEd25519)));
  TransportPair p(std::move(c), std::move(s));
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.server->next_deadline(), p.now + std::chrono::seconds(10));
  p.now += std::chrono::seconds(11);
  p.server->on_timeout(p.now);
  ASSERT_TRUE(p.pump());
  EXPECT_EQ(p.server->kex_count(), 2u);
  exchange_messages(p, 2, 10);
}

TEST(TransportSession, ServerSigAlgsReachTheClient) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  ASSERT_TRUE(p.handshake());
  EXPECT_FALSE(p.client_events.server_sig_algs.empty());
}

TEST(TransportSession, RejectedHostKeyDisconnects) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  p.client_events.reject_host_key = true;
  EXPECT_FALSE(p.handshake());
  EXPECT_FALSE(p.client_status);
  EXPECT_EQ(p.client_status.reason(), msg::DisconnectReason::kHostKeyNotVerifiable);
  EXPECT_TRUE(p.client->closed());
}

TEST(TransportSession, NoCommonAlgorithmFails) {
  TransportConfig c = config_with("curve25519-sha256", "aes128-ctr", "hmac-sha2-256", "ssh-ed25519");
  TransportConfig s = config_with("curve25519-sha256", "aes256-ctr", "hmac-sha2-256", "ssh-ed25519");
  s.host_keys.push_back(std::make_shared<keys::PrivateKey>(test_host_key(keys::KeyType::kEd25519)));
  TransportPair p(std::move(c), std::move(s));
  EXPECT_FALSE(p.handshake());
  // Whichever side negotiated first refuses with KEY_EXCHANGE_FAILED, naming the cipher.
  const transport::Status& failed = p.client_status ? p.server_status : p.client_status;
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.reason(), msg::DisconnectReason::kKeyExchangeFailed) << failed.message();
  EXPECT_NE(failed.message().find("no matching cipher"), std::string::npos) << failed.message();
}

// A flipped bit anywhere in an encrypted packet must end the connection, never deliver garbage.
TEST(TransportSession, FlippedBitAnywhereDisconnects) {
  for (const auto& cipher : kCiphers) {
    for (const std::string mac : {"hmac-sha2-256", "hmac-sha2-256-etm@openssh.com"}) {
      auto base = make_pair("curve25519-sha256", cipher, mac);
      ASSERT_TRUE(base.handshake());
      base.client->send(message(94, std::string(200, 'x')));
      Bytes wire(base.client->pending_output().begin(), base.client->pending_output().end());
      for (size_t bit = 0; bit < wire.size() * 8; bit += 7) {
        SCOPED_TRACE(cipher + " " + mac + " bit " + std::to_string(bit));
        auto p = make_pair("curve25519-sha256", cipher, mac);
        ASSERT_TRUE(p.handshake());
        p.client->send(message(94, std::string(200, 'x')));
        size_t before = p.server_events.messages.size();
        p.move(*p.client, *p.server, p.server_status,
               [&](Bytes& b) { b[bit / 8 % b.size()] ^= uint8_t(1 << (bit % 8)); });
        // Either an immediate failure, or the server waits for bytes that never come (a length
        // that grew); in no case is a message delivered.
        EXPECT_EQ(p.server_events.messages.size(), before);
        if (p.server_status) {
          EXPECT_FALSE(p.server->closed());
        } else {
          EXPECT_TRUE(p.server->closed());
          // A MAC (or AEAD tag) failure, or a length field that became impossible.
          const transport::Status& st = p.server_status;
          EXPECT_TRUE(st.reason() == msg::DisconnectReason::kMacError ||
                      (st.reason() == msg::DisconnectReason::kProtocolError &&
                       st.message().rfind("bad packet length", 0) == 0))
              << int(st.reason()) << " " << st.message();
        }
      }
    }
  }
}

// Every transport message in a state where it is not allowed -> disconnect.
TEST(TransportSession, WrongStateMessagesDisconnect) {
  struct Case {
    const char* name;
    Bytes payload;
  };
  std::vector<Case> after_kex = {
      {"NEWKEYS", message(msg::kNewKeys, "")},
      {"KEXDH_INIT", message(msg::kKexdhInit, std::string(36, '\0'))},
      {"KEXDH_REPLY", message(msg::kKexdhReply, "")},
      {"GEX_REQUEST", message(msg::kKexDhGexRequest, std::string(12, '\0'))},
      {"GEX_INIT", message(msg::kKexDhGexInit, "")},
      {"unknown 8", message(8, "")},
      {"unknown 25", message(25, "")},
      {"SERVICE_ACCEPT to server", message(msg::kServiceAccept, "")},
      {"malformed KEXINIT", message(msg::kKexInit, "short")},
  };
  for (const auto& c : after_kex) {
    SCOPED_TRACE(c.name);
    auto p = make_pair("curve25519-sha256", "aes128-gcm@openssh.com", "none");
    ASSERT_TRUE(p.handshake());
    p.client->send(c.payload);
    p.pump();
    EXPECT_FALSE(p.server_status);
    EXPECT_EQ(p.server_status.reason(), msg::DisconnectReason::kProtocolError)
        << p.server_status.message();
    EXPECT_TRUE(p.server->closed());
  }
}

TEST(TransportSession, UpperLayerMessageDuringInitialKexDisconnects) {
  // Feed the server a plaintext packet carrying a connection message before any key exchange.
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  p.server->start(p.now);
  std::string wire = "SSH-2.0-test\r\n";
  Bytes pkt = {0, 0, 0, 12, 10, 94};
  pkt.resize(16, 0);
  Bytes in(wire.begin(), wire.end());
  in.insert(in.end(), pkt.begin(), pkt.end());
  transport::Status st = p.server->feed(in, p.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolError) << st.message();
  EXPECT_NE(st.message().find("unexpected message type 94"), std::string::npos) << st.message();
  EXPECT_TRUE(p.server->closed());
}

TEST(TransportSession, StrictKexRejectsIgnoreBeforeKexinit) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  p.server->start(p.now);
  // An IGNORE (the Terrapin prefix) before the client's KEXINIT: with strict kex the KEXINIT
  // is then not the first packet, and the server must refuse.
  std::string wire = "SSH-2.0-test\r\n";
  Bytes in(wire.begin(), wire.end());
  Bytes ignore = {0, 0, 0, 12, 10, msg::kIgnore, 0, 0, 0, 0};
  ignore.resize(16, 0);
  in.insert(in.end(), ignore.begin(), ignore.end());
  ASSERT_TRUE(p.server->feed(in, p.now));
  p.client->start(p.now);
  ByteView out = p.client->pending_output();
  // Skip the client's version line, deliver its KEXINIT packet.
  size_t eol = 0;
  while (out[eol] != '\n') ++eol;
  transport::Status st = p.server->feed(out.subspan(eol + 1), p.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolError) << st.message();
  EXPECT_NE(st.message().find("strict KEX violation"), std::string::npos) << st.message();
  EXPECT_TRUE(p.server->closed());
}

TEST(TransportSession, VersionLineLimits) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  p.client->start(p.now);
  // A server may send lines before its version; a client accepts them.
  std::string banner = "hello there\r\nSSH-2.0-OpenSSH_9.2\r\n";
  EXPECT_TRUE(p.client->feed(as_bytes(banner), p.now));
  EXPECT_EQ(p.client->peer_version(), "SSH-2.0-OpenSSH_9.2");

  auto q = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  q.server->start(q.now);
  // A client may not send lines before its version (RFC 4253 section 4.2).
  transport::Status st = q.server->feed(as_bytes(std::string("hello\r\n")), q.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolVersionNotSupported) << st.message();
  EXPECT_NE(st.message().find("invalid identification string"), std::string::npos)
      << st.message();

  auto r = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  r.server->start(r.now);
  st = r.server->feed(as_bytes(std::string("SSH-1.5-old\r\n")), r.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolVersionNotSupported) << st.message();
  EXPECT_NE(st.message().find("protocol major versions differ"), std::string::npos)
      << st.message();

  auto t = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  t.client->start(t.now);
  st = t.client->feed(as_bytes(std::string(9000, 'x')), t.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolVersionNotSupported) << st.message();
  EXPECT_NE(st.message().find("identification line too long"), std::string::npos)
      << st.message();
}

TEST(TransportSession, OversizedPacketLengthDisconnects) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  p.server->start(p.now);
  std::string wire = "SSH-2.0-test\r\n";
  Bytes in(wire.begin(), wire.end());
  Bytes huge = {0x7f, 0xff, 0xff, 0xff, 4};
  in.insert(in.end(), huge.begin(), huge.end());
  transport::Status st = p.server->feed(in, p.now);
  EXPECT_FALSE(st);
  EXPECT_EQ(st.reason(), msg::DisconnectReason::kProtocolError) << st.message();
  EXPECT_EQ(st.message().rfind("bad packet length", 0), 0u) << st.message();
  EXPECT_TRUE(p.server->closed());
}

TEST(TransportSession, DisconnectFromPeerClosesWithoutReply) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  ASSERT_TRUE(p.handshake());
  p.client->disconnect(msg::DisconnectReason::kByApplication, "bye");
  p.pump();
  EXPECT_FALSE(p.server_status);
  EXPECT_NE(p.server_status.message().find("bye"), std::string::npos);
  ASSERT_TRUE(p.server->peer_disconnect().has_value());
  EXPECT_EQ(p.server->peer_disconnect()->reason, uint32_t(msg::DisconnectReason::kByApplication));
  EXPECT_EQ(p.server->peer_disconnect()->description, "bye");
  EXPECT_TRUE(p.server->pending_output().empty());
}

TEST(TransportSession, IgnoreAndDebugAreAcceptedAfterKex) {
  auto p = make_pair("curve25519-sha256", "aes128-ctr", "hmac-sha2-256");
  ASSERT_TRUE(p.handshake());
  Bytes ign;
  wire::Writer(ign).u8(msg::kIgnore).string("padding");
  Bytes dbg;
  wire::Writer(dbg).u8(msg::kDebug).boolean(true).string("note").string("");
  p.client->send(ign);
  p.client->send(dbg);
  ASSERT_TRUE(p.pump());
  exchange_messages(p, 1, 10);
}

}  // namespace
}  // namespace hashi::test
