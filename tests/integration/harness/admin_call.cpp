#include "harness/admin_call.hpp"

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qcc::test {

std::string AdminReply::error_message() const {
    if (!json.is_object()) return {};
    const auto* err = json.as_object().if_contains("error");
    if (err == nullptr || !err->is_object()) return {};
    const auto* msg = err->as_object().if_contains("message");
    if (msg == nullptr || !msg->is_string()) return {};
    return std::string(msg->get_string());
}

AdminReply admin_call(std::uint16_t port, std::string_view method, std::string_view target,
                      std::string_view body, std::string_view token) {
    TestClient client(port);
    Headers headers;
    if (!token.empty()) headers.emplace_back("authorization", "Bearer " + std::string(token));
    if (!body.empty()) headers.emplace_back("content-type", "application/json");
    AdminReply reply;
    reply.response = client.request(method, target, headers, body, std::chrono::seconds(30));
    reply.status = reply.response.status;
    boost::system::error_code ec;
    auto v = boost::json::parse(reply.response.body, ec);
    if (!ec) reply.json = std::move(v);
    return reply;
}

EventStream::EventStream(std::uint16_t port, const Headers& extra, std::string_view target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close();
        return;
    }
    std::string req =
        "GET " + std::string(target) + " HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) +
        "\r\nauthorization: Bearer " + kAdminToken + "\r\naccept: text/event-stream\r\n";
    for (const auto& [k, v] : extra) req += k + ": " + v + "\r\n";
    req += "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        close();
        return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (raw_.find("\r\n\r\n") == std::string::npos) {
        if (!read_more(deadline)) return;
    }
    const auto end = raw_.find("\r\n\r\n");
    head_ = raw_.substr(0, end + 4);
    raw_.erase(0, end + 4);
    if (head_.size() > 12) status_ = std::atoi(head_.substr(9, 3).c_str());
    std::string lower = head_;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
    dechunk();
}

EventStream::~EventStream() { close(); }

void EventStream::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool EventStream::read_more(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
        close();
        return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    return true;
}

void EventStream::dechunk() {
    if (!chunked_) {
        text_ += raw_;
        raw_.clear();
        return;
    }
    for (;;) {
        const auto eol = raw_.find("\r\n");
        if (eol == std::string::npos) return;
        const auto size = std::stoul(raw_.substr(0, eol), nullptr, 16);
        if (raw_.size() < eol + 2 + size + 2) return;
        text_ += raw_.substr(eol + 2, size);
        raw_.erase(0, eol + 2 + size + 2);
    }
}

bool EventStream::wait_for(std::string_view needle, std::size_t from,
                           std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (text_.size() > from && text_.find(needle, from) != std::string::npos) return true;
        if (!read_more(until)) return false;
        dechunk();
    }
}

}  // namespace qcc::test
