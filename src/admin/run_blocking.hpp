// Blocking store work of admin handlers runs on the admin thread pool, never on a proxy worker,
// and the handler resumes on its own executor afterwards.
#pragma once
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace qcc::admin {

/// Runs `fn()` on `pool` and returns its result (or rethrows its exception) on the awaiting
/// coroutine's executor. `fn` must own what it uses (capture by value).
template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> run_blocking(boost::asio::thread_pool& pool, F fn) {
    using R = std::invoke_result_t<F>;
    // Deliberately not a coroutine itself: GCC 12 destroys a by-value coroutine parameter that
    // was moved from into a lambda capture twice (heap corruption). The lambda below owns `fn`
    // for the whole run (co_spawn keeps the function object alive until it completes).
    return boost::asio::co_spawn(
        pool.get_executor(),
        [fn = std::move(fn)]() mutable -> boost::asio::awaitable<R> { co_return fn(); },
        boost::asio::use_awaitable);
}

}  // namespace qcc::admin
