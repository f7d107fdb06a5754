// The CLI test fixture: runs qcc::cli::run in-process with stdout/stderr captured against a real
// gateway (ProxyFixture) with one fake upstream, HOME pointed at a temporary directory.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <streambuf>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "cli/cli.hpp"
#include "harness/fake_upstream.hpp"
#include "harness/proxy_fixture.hpp"
#include "harness/test_client.hpp"
#include "support/temp_dir.hpp"

namespace qcc::test {

/// A streambuf that several threads may write to and the test may read while they do.
class LockedBuf : public std::streambuf {
  public:
    std::string text() const {
        std::lock_guard lock(mu_);
        return text_;
    }

  protected:
    int_type overflow(int_type c) override {
        if (c == traits_type::eof()) return traits_type::not_eof(c);
        std::lock_guard lock(mu_);
        text_ += traits_type::to_char_type(c);
        return c;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        std::lock_guard lock(mu_);
        text_.append(s, static_cast<std::size_t>(n));
        return n;
    }

  private:
    mutable std::mutex mu_;
    std::string text_;
};

struct CliResult {
    int code = -1;
    std::string out, err;
};

/// Runs `qcc args...` with std::cout / std::cerr going to `out` / `err`.
inline int run_cli_into(const std::vector<std::string>& args, std::streambuf* out,
                        std::streambuf* err) {
    std::vector<std::string> storage{"qcc"};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    auto* old_out = std::cout.rdbuf(out);
    auto* old_err = std::cerr.rdbuf(err);
    const int code = cli::run(static_cast<int>(storage.size()), argv.data());
    std::cout.flush();
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    return code;
}

inline CliResult run_cli(const std::vector<std::string>& args) {
    LockedBuf out, err;
    CliResult r;
    r.code = run_cli_into(args, &out, &err);
    r.out = out.text();
    r.err = err.text();
    return r;
}

inline std::string describe(const CliResult& r) {
    return "exit " + std::to_string(r.code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        home_ = home_dir_.path();
        // No ~/.qcc/config.toml or admin token of the machine running the tests leaks in.
        if (const char* h = std::getenv("HOME")) old_home_ = h;
        ::setenv("HOME", home_.c_str(), 1);
        ::unsetenv("QCC_ADMIN_TOKEN");
        proxy_ = std::make_unique<ProxyFixture>(
            std::vector<config::EndpointConfig>{endpoint_config("up", upstream_.base_url())});
    }
    void TearDown() override {
        proxy_.reset();
        ::setenv("HOME", old_home_.c_str(), 1);
    }

    /// `args` + the flags that select this test's server.
    std::vector<std::string> with_target(std::vector<std::string> args,
                                         std::string token = kAdminToken) const {
        args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(proxy_->port()),
                                 "--token", std::move(token)});
        return args;
    }
    CliResult cli(std::vector<std::string> args) { return run_cli(with_target(std::move(args))); }

    boost::json::object cli_json(std::vector<std::string> args) {
        args.emplace_back("--json");
        const auto r = cli(args);
        EXPECT_EQ(r.code, 0) << describe(r);
        try {
            return boost::json::parse(r.out).as_object();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "not a JSON object: " << e.what() << "\n" << describe(r);
            return {};
        }
    }

    /// A Messages request with `key`; returns the status.
    int send_with_key(const std::string& key) {
        TestClient client(proxy_->port());
        auto headers = ProxyFixture::client_headers(false);
        headers.emplace_back("x-api-key", key);
        return client.request("POST", "/v1/messages", headers, ProxyFixture::messages_body(false))
            .status;
    }

    FakeUpstream upstream_;
    std::unique_ptr<ProxyFixture> proxy_;
    TempDir home_dir_{"qcc-cli-test"};
    std::filesystem::path home_;
    std::string old_home_;
};

}  // namespace qcc::test
