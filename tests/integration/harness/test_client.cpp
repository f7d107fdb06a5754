#include "harness/test_client.hpp"

#include <cerrno>
#include <limits>
#include <optional>

#include <arpa/inet.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace qcc::test {
namespace {

namespace http = boost::beast::http;

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool has_header(const Headers& headers, std::string_view name) {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return true;
    }
    return false;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    return static_cast<int>(std::min<long long>(left.count(), std::numeric_limits<int>::max()));
}

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return {};
}

TestClient::TestClient(std::uint16_t port) : port_(port) { connect(0); }

TestClient::TestClient(std::uint16_t port, int receive_buffer_bytes)
    : port_(port), receive_buffer_bytes_(receive_buffer_bytes) {
    connect(receive_buffer_bytes);
}

TestClient::~TestClient() { close(); }

void TestClient::connect(int receive_buffer_bytes) {
    pending_.clear();
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    if (receive_buffer_bytes > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Loopback connects complete (or are refused) at once, so a blocking connect cannot hang.
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    fd_ = fd;
}

void TestClient::close() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_WR);
    ::close(fd_);
    fd_ = -1;
}

void TestClient::reset() {
    if (fd_ < 0) return;
    linger lg{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd_);
    fd_ = -1;
}

bool TestClient::reconnect() {
    close();
    connect(receive_buffer_bytes_);
    return connected();
}

bool TestClient::write_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
        if (fd_ < 0) return false;
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int ms = remaining_ms(deadline);
            if (ms == 0 || ::poll(&p, 1, ms) <= 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

long TestClient::read_some(Clock::time_point deadline) {
    char buf[16384];
    for (;;) {
        if (fd_ < 0) return -1;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            pending_.append(buf, static_cast<std::size_t>(n));
            return n;
        }
        if (n == 0) return 0;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        pollfd p{fd_, POLLIN, 0};
        int ms = remaining_ms(deadline);
        if (ms == 0) return -2;
        int rc = ::poll(&p, 1, ms);
        if (rc == 0) return -2;
        if (rc < 0 && errno != EINTR) return -1;
    }
}

bool TestClient::send(std::string_view method, std::string_view target, const Headers& headers,
                      std::string_view body, std::chrono::milliseconds deadline) {
    std::string req;
    req.reserve(256 + body.size());
    req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    if (!has_header(headers, "host")) req += "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
    for (const auto& [k, v] : headers) req.append(k).append(": ").append(v).append("\r\n");
    if (!body.empty() && !has_header(headers, "content-length") &&
        !has_header(headers, "transfer-encoding")) {
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req.append(body);
    last_method_ = std::string(method);
    return write_all(req, Clock::now() + deadline);
}

ClientResponse TestClient::read_response(std::chrono::milliseconds deadline, bool head_request) {
    return read_until(Clock::now() + deadline, head_request, 0, false);
}

ClientResponse TestClient::request(std::string_view method, std::string_view target,
                                   const Headers& headers, std::string_view body,
                                   std::chrono::milliseconds deadline) {
    auto until = Clock::now() + deadline;
    if (!send(method, target, headers, body, deadline)) {
        ClientResponse r;
        r.timed_out = Clock::now() >= until;
        return r;
    }
    return read_until(until, method == "HEAD", 0, false);
}

ClientResponse TestClient::request_and_abort(std::string_view method, std::string_view target,
                                             const Headers& headers, std::string_view body,
                                             std::size_t stop_after_bytes,
                                             std::chrono::milliseconds deadline) {
    auto until = Clock::now() + deadline;
    if (!send(method, target, headers, body, deadline)) return {};
    ClientResponse r = read_until(until, method == "HEAD", stop_after_bytes, true);
    reset();
    return r;
}

ClientResponse TestClient::read_until(Clock::time_point deadline, bool head_request,
                                      std::size_t abort_after_bytes, bool abort) {
    ClientResponse out;
    std::optional<http::response_parser<http::string_body>> parser;
    auto fresh_parser = [&] {
        parser.emplace();
        parser->eager(true);
        parser->header_limit(std::numeric_limits<std::uint32_t>::max());
        parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        if (head_request) parser->skip(true);
    };
    fresh_parser();

    // Parses as much of pending_ as possible; false on a malformed response.
    auto consume = [&]() -> bool {
        while (!pending_.empty() && !parser->is_done()) {
            boost::beast::error_code ec;
            std::size_t used = parser->put(boost::asio::buffer(pending_), ec);
            pending_.erase(0, used);
            if (ec == http::error::need_more) return true;
            if (ec) return false;
            if (parser->is_done() && parser->get().result_int() / 100 == 1) {
                fresh_parser();  // an interim 1xx response: the real one follows
                continue;
            }
            if (used == 0) return true;
        }
        return true;
    };
    auto body_size = [&] { return parser->get().body().size(); };
    auto abort_now = [&] {
        return abort && parser->is_header_done() && parser->get().result_int() / 100 != 1 &&
               body_size() >= abort_after_bytes;
    };

    bool ok = consume();
    std::size_t seen = body_size();
    if (seen > 0) {
        out.chunks.push_back(parser->get().body());
        out.chunk_times.push_back(Clock::now());
    }
    while (ok && !parser->is_done() && !abort_now()) {
        long n = read_some(deadline);
        if (n == -2) {
            out.timed_out = true;
            break;
        }
        if (n <= 0) {
            // The peer closed: a body delimited by EOF ends here; anything else is cut short.
            if (n == 0 && parser->is_header_done()) {
                boost::beast::error_code ec;
                parser->put_eof(ec);
            }
            close();
            break;
        }
        auto now = Clock::now();
        std::size_t before = body_size();
        ok = consume();
        if (body_size() < before) before = 0;  // a 1xx restarted the parser
        if (body_size() > before) {
            out.chunks.push_back(parser->get().body().substr(before));
            out.chunk_times.push_back(now);
        }
    }

    if (parser->is_header_done()) {
        const auto& msg = parser->get();
        out.status = static_cast<int>(msg.result_int());
        for (const auto& f : msg) {
            out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        out.body = msg.body();
    }
    out.complete = parser->is_done();
    if (!ok || out.timed_out) {
        close();
    } else if (out.complete && !parser->get().keep_alive()) {
        close();
    }
    return out;
}

std::string TestClient::raw(std::string_view bytes, std::chrono::milliseconds deadline) {
    auto until = Clock::now() + deadline;
    std::string out;
    if (!write_all(bytes, until)) return out;
    for (;;) {
        long n = read_some(until);
        if (n <= 0) break;
    }
    out.swap(pending_);
    if (fd_ >= 0) close();
    return out;
}

}  // namespace qcc::test
