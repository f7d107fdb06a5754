#include "sim/demo.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <mutex>
#include <random>
#include <stdexcept>

#include <simdjson.h>

#include "sim/anthropic.hpp"
#include "sim/openai.hpp"

namespace qcc::sim {
namespace {

constexpr ResponseShape kFastShape{8, Millis{15}, Millis{30}};
constexpr ResponseShape kSlowShape{12, Millis{40}, Millis{1500}};

constexpr int kBenchDefaultDeltas = 40;
constexpr long kBenchDefaultGapMs = 20;
constexpr int kBenchMaxDeltas = 100000;
constexpr long kBenchMaxGapMs = 60000;

bool is_messages_post(const Request& req) {
    return req.method == "POST" && req.path() == "/v1/messages";
}

long header_number(const Request& req, std::string_view name, long fallback, long lo, long hi) {
    std::string v = req.header(name);
    long n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) return fallback;
    return std::clamp(n, lo, hi);
}

// The benchmark sends large Claude Code bodies at a high rate: peek at `stream` and `model` with
// simdjson on-demand instead of building a DOM.
struct BenchPeek {
    bool valid = false;
    bool stream = false;
    std::string model;
};

BenchPeek peek(const std::string& body) {
    thread_local simdjson::ondemand::parser parser;
    BenchPeek out;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return out;
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return out;
    out.valid = true;
    bool stream = false;
    if (obj.find_field_unordered("stream").get_bool().get(stream) == simdjson::SUCCESS) {
        out.stream = stream;
    }
    std::string_view model;
    if (obj.find_field_unordered("model").get_string().get(model) == simdjson::SUCCESS) {
        out.model = std::string(model);
    }
    return out;
}

Reply bench_reply(const Request& req) {
    if (!is_messages_post(req)) return respond_like_anthropic(req);
    BenchPeek p = peek(req.body);
    if (!p.valid)
        return Reply::error(400, "invalid_request_error", "The request body is not valid JSON.");
    if (p.model.empty()) p.model = "claude-sonnet-4-5-20250929";
    Usage usage;
    usage.input_tokens = static_cast<int>(req.body.size() / 4) + 1;
    if (p.stream) {
        int deltas = static_cast<int>(
            header_number(req, "x-sim-deltas", kBenchDefaultDeltas, 1, kBenchMaxDeltas));
        Millis gap{header_number(req, "x-sim-gap-ms", kBenchDefaultGapMs, 0, kBenchMaxGapMs)};
        std::string text;
        text.reserve(static_cast<std::size_t>(deltas) * 5);
        for (int i = 0; i < deltas; ++i) text += "word ";
        usage.output_tokens = deltas;
        return Reply::sse(text_stream(p.model, text, deltas, usage), gap);
    }
    // About 1 KB in all: the envelope is ~300 bytes.
    std::string text;
    while (text.size() < 720) text += "The quick brown fox jumps over the lazy dog. ";
    usage.output_tokens = static_cast<int>(text.size() / 4);
    return Reply::json(200, text_message_json(p.model, text, usage));
}

// Per-request fault injection with a seeded generator; `rng() % 100` (not a std distribution)
// keeps the sequence identical across standard libraries.
class Flaky {
  public:
    explicit Flaky(std::uint64_t seed) : rng_(seed), start_(std::chrono::steady_clock::now()) {}

    Reply operator()(const Request& req) {
        if (!is_messages_post(req)) return respond_like_anthropic(req, kFastShape);
        // A 20 s outage every 90 s (the first 30 s after start): long enough for QCC's breaker
        // to open, short enough that its half-open trial 60 s later finds the endpoint back.
        const auto phase = (std::chrono::steady_clock::now() - start_) % kOutageCycle;
        if (phase >= kOutageStart && phase < kOutageStart + kOutageLength) {
            Reply r = Reply::error(503, "api_error", "simulated outage of the flaky demo endpoint");
            r.head_delay = kFastShape.head_delay;
            return r;
        }
        std::uint64_t roll = 0;
        {
            std::lock_guard lock(mutex_);
            roll = rng_() % 100;
        }
        Reply base = respond_like_anthropic(req, kFastShape);
        if (base.status != 200) return base;
        const bool streaming = base.chunks.size() > 1;
        if (roll < 20 || (roll < 30 && !streaming)) {
            Reply r = Reply::error(529, "overloaded_error", "Overloaded");
            r.head_delay = kFastShape.head_delay;
            return r;
        }
        if (roll < 30) {
            Reply r = Reply::sse({error_event("overloaded_error", "Overloaded")});
            r.head_delay = kFastShape.head_delay;
            return r;
        }
        if (roll < 40) {
            base.reset_after_bytes = base.body_size() / 2;
            return base;
        }
        return base;
    }

  private:
    static constexpr std::chrono::seconds kOutageCycle{90}, kOutageStart{30}, kOutageLength{20};
    std::mutex mutex_;
    std::mt19937_64 rng_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace

bool is_demo_profile(std::string_view profile) {
    return std::find(kDemoProfiles.begin(), kDemoProfiles.end(), profile) != kDemoProfiles.end();
}

Handler demo_handler(std::string_view profile, std::uint64_t seed) {
    if (profile == "fast") {
        return [](const Request& req) { return respond_like_anthropic(req, kFastShape); };
    }
    if (profile == "slow") {
        return [](const Request& req) { return respond_like_anthropic(req, kSlowShape); };
    }
    if (profile == "flaky") {
        auto flaky = std::make_shared<Flaky>(seed);
        return [flaky](const Request& req) { return (*flaky)(req); };
    }
    if (profile == "bench") return bench_reply;
    if (profile == "overloaded") {
        return [](const Request& req) {
            if (!is_messages_post(req)) return bench_reply(req);
            return Reply::error(529, "overloaded_error", "Overloaded");
        };
    }
    if (profile == "cutter") {
        return [](const Request& req) {
            Reply r = bench_reply(req);
            // A few events reach the client, then the connection is reset: a cut after the
            // commit point.
            if (r.status == 200 && r.chunks.size() > 4) {
                r.reset_after_bytes = r.chunks[0].size() + r.chunks[1].size() + r.chunks[2].size();
            }
            return r;
        };
    }
    if (profile == "ratelimited") {
        return [](const Request& req) {
            if (!is_messages_post(req)) return bench_reply(req);
            Reply r = Reply::error(429, "rate_limit_error",
                                   "Number of requests has exceeded your "
                                   "rate limit");
            r.headers.emplace_back("retry-after", "5");
            return r;
        };
    }
    if (profile == "ratelimited-once") {
        // The first Messages request is refused with a 429 that says nothing about when to come
        // back (as many relays do); every later request is answered like `fast`.
        auto refused = std::make_shared<std::atomic<bool>>(false);
        return [refused](const Request& req) {
            if (is_messages_post(req) && !refused->exchange(true)) {
                return Reply::error(429, "rate_limit_error", "Too many requests, slow down");
            }
            return respond_like_anthropic(req, kFastShape);
        };
    }
    if (profile == "openai") {
        return [](const Request& req) { return respond_like_openai(req, kFastShape); };
    }
    throw std::invalid_argument("unknown simulator profile '" + std::string(profile) +
                                "' (expected fast, slow, flaky, bench, overloaded, cutter, "
                                "ratelimited, ratelimited-once or openai)");
}

std::unique_ptr<Server> make_demo_server(std::string_view profile, std::uint16_t port,
                                         std::string host, std::uint64_t seed) {
    auto server = std::make_unique<Server>(demo_handler(profile, seed), std::move(host), port);
    server->start();
    return server;
}

}  // namespace qcc::sim
