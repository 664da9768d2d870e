// Fuzz target for the ssh_config / sshd_config parsers: the input is one config file, parsed as a
// client config (for two host names) and as a server config, then resolved, dumped and expanded.
// Files are in memory: the input is also reachable as an Include target, so include loops and
// nesting are exercised without touching the disk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/algorithms.h"
#include "config/client_config.h"
#include "config/server_config.h"

using namespace hashi::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  MemoryFileSource fs;
  fs.files["/home/u/.ssh/config"] = text;
  fs.files["/home/u/.ssh/inc.conf"] = text;
  fs.files["/etc/ssh/sshd_config"] = text;
  fs.files["/etc/ssh/inc.conf"] = text;

  for (const char* host : {"example.com", "web1"}) {
    std::string error;
    std::vector<std::string> warnings;
    auto client = ClientConfig::resolve_text(host, text, "fuzz", "/home/u", "u", fs, error,
                                             &warnings);
    if (client) {
      apply_client_defaults(*client, "/home/u");
      TokenValues v;
      v.remote_host = host;
      v.home_dir = "/home/u";
      for (const auto& f : client->identity_files) {
        (void)expand_tokens(f, v);
      }
      if (client->hostname) {
        std::string err;
        (void)expand_tokens_checked(*client->hostname, v, err);
      }
    }
  }

  std::vector<ConfigDiagnostic> diagnostics;
  auto server = parse_server_config_text(text, "fuzz", {}, fs, diagnostics);
  if (server) {
    MatchContext ctx;
    ctx.user = "alice";
    ctx.groups = {"staff"};
    ctx.host = "client.example.com";
    ctx.address = "10.1.2.3";
    ctx.local_address = "::1";
    ctx.local_port = 22;
    (void)dump_server_config(resolve_match(*server, ctx));
  }

  // The first line as an algorithm spec and a RekeyLimit value.
  std::string first = text.substr(0, text.find('\n'));
  std::string err;
  (void)apply_algorithm_spec(AlgorithmKind::kCipher, first, err);
  (void)parse_rekey_limit(first);
  return 0;
}
