// Built-in simulated upstream profiles: what `qcc serve --demo` runs (fast, slow, flaky) and the
// benchmark's fake upstream (bench).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sim/server.hpp"

namespace qcc::sim {

/// Seed of the flaky profile's fault generator unless one is given (runs are reproducible).
inline constexpr std::uint64_t kDefaultDemoSeed = 0x51e57eedULL;

/// Every profile name: "fast" (head ~30 ms, 15 ms gaps), "slow" (head ~1.5 s, 40 ms gaps),
/// "flaky" (per request: ~20 % 529, ~10 % a 200 stream opening with an overloaded_error event,
/// ~10 % a stream reset midway, else like fast), "bench" (immediate head; streams of
/// `x-sim-deltas` deltas, default 40, every `x-sim-gap-ms` ms, default 20; ~1 KB JSON otherwise);
/// and three fault profiles for soak runs, otherwise like bench: "overloaded" (every Messages
/// request gets 529 overloaded_error), "cutter" (every stream is reset after its first events),
/// "ratelimited" (every Messages request gets 429 with `retry-after: 5`); and
/// "ratelimited-once" (the first Messages request gets a 429 without `retry-after`, the rest are
/// answered like fast); and "openai", an OpenAI-compatible Chat Completions server (paced like
/// fast) for endpoints of kind openai.
inline constexpr std::array<std::string_view, 9> kDemoProfiles{
    "fast",  "slow", "flaky", "bench", "overloaded", "cutter", "ratelimited", "ratelimited-once",
    "openai"};

/// The three endpoints `qcc serve --demo` starts, in order.
inline constexpr std::array<std::string_view, 3> kServeDemoProfiles{"fast", "slow", "flaky"};

/// Whether `profile` is one of kDemoProfiles.
bool is_demo_profile(std::string_view profile);

/// The request handler of `profile` (throws std::invalid_argument for an unknown name). `seed`
/// drives the flaky profile's choices: the same seed and request order give the same faults.
Handler demo_handler(std::string_view profile, std::uint64_t seed = kDefaultDemoSeed);

/// A started server running `profile` on host:port (port 0 picks a free one). Throws on an
/// unknown profile or when the address cannot be bound.
std::unique_ptr<Server> make_demo_server(std::string_view profile, std::uint16_t port = 0,
                                         std::string host = "127.0.0.1",
                                         std::uint64_t seed = kDefaultDemoSeed);

}  // namespace qcc::sim
