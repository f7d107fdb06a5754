#include "harness/fake_upstream.hpp"

#include "sim/anthropic.hpp"

namespace qcc::test {

std::size_t bytes_past_first_delta(const std::vector<std::string>& events, std::size_t extra) {
    std::size_t bytes = 0;
    for (const auto& e : events) {
        bytes += e.size();
        if (e.find("content_block_delta") != std::string::npos) break;
    }
    return bytes + extra;
}

FakeUpstream::FakeUpstream() { start(std::nullopt); }

FakeUpstream::FakeUpstream(const sim::TlsOptions& tls) { start(tls); }

void FakeUpstream::start(std::optional<sim::TlsOptions> tls) {
    sim::Usage usage;
    usage.input_tokens = 12;
    usage.output_tokens = 6;
    default_ = sim::Reply::json(200, sim::text_message_json("claude-sonnet-4-5-20250929",
                                                            "Hello from FakeUpstream.", usage));
    server_ =
        std::make_unique<sim::Server>([this](const sim::Request& req) { return next_reply(req); },
                                      "127.0.0.1", 0, std::move(tls));
    server_->start();
}

FakeUpstream::~FakeUpstream() { server_->stop(); }

std::string FakeUpstream::base_url() const { return server_->base_url(); }
std::uint16_t FakeUpstream::port() const { return server_->port(); }

void FakeUpstream::push(sim::Reply reply) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(reply));
}

void FakeUpstream::set_default(sim::Reply reply) {
    std::lock_guard lock(mutex_);
    default_ = std::move(reply);
}

void FakeUpstream::set_fallback(sim::Handler handler) {
    std::lock_guard lock(mutex_);
    fallback_ = std::move(handler);
}

void FakeUpstream::refuse() { server_->refuse_connections(true); }
void FakeUpstream::accept() { server_->refuse_connections(false); }

std::vector<sim::Request> FakeUpstream::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t FakeUpstream::request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

bool FakeUpstream::wait_for_requests(std::size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, deadline, [&] { return requests_.size() >= n; });
}

bool FakeUpstream::wait_for_client_aborts(std::size_t n, std::chrono::milliseconds deadline) {
    return server_->wait_until([n](const sim::Server& s) { return s.client_aborts() >= n; },
                               deadline);
}

sim::Server& FakeUpstream::server() { return *server_; }

sim::Reply FakeUpstream::next_reply(const sim::Request& req) {
    sim::Handler fallback;
    sim::Reply reply;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
        if (!queue_.empty()) {
            reply = std::move(queue_.front());
            queue_.pop_front();
        } else if (fallback_) {
            fallback = fallback_;
        } else {
            reply = default_;
        }
    }
    arrived_.notify_all();
    // The fallback runs outside the lock so it may call back into this object.
    return fallback ? fallback(req) : reply;
}

}  // namespace qcc::test
