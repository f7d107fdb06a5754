// Awaits a condition with a deadline (tests never sleep for a fixed time to wait for something).
#pragma once
#include <chrono>
#include <thread>

namespace qcc::test {

/// Polls `pred` every 10 ms until it holds or `deadline` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling interval
    }
    return pred();
}

}  // namespace qcc::test
