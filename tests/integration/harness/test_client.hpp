// A blocking HTTP/1.1 test client on a raw TCP socket: every call has a deadline and never hangs;
// it records body pieces as they arrive so streaming tests can see chunk boundaries.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qcc::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// What the client read back.
struct ClientResponse {
    int status = 0;
    Headers headers;
    std::string body;                 // de-chunked body
    std::vector<std::string> chunks;  // body bytes in the order and pieces they arrived
    std::vector<std::chrono::steady_clock::time_point> chunk_times;  // arrival of each piece
    bool complete = false;   // a complete HTTP message was read (chunked terminator / full length)
    bool timed_out = false;  // the deadline passed before the message was complete

    /// First header named `name` (case-insensitive), "" if absent.
    std::string header(std::string_view name) const;
};

/// One keep-alive connection to 127.0.0.1:port. Not thread-safe.
class TestClient {
  public:
    /// Connects at once; connected() tells whether that worked (a refused connect is not an error).
    explicit TestClient(std::uint16_t port);
    /// Slow-client variant: sets SO_RCVBUF to `receive_buffer_bytes` before connecting.
    TestClient(std::uint16_t port, int receive_buffer_bytes);
    ~TestClient();
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    /// Sends a request (headers exactly as given, plus Host if absent and Content-Length if absent
    /// and the body is non-empty) and reads the full response before `deadline`.
    ClientResponse request(std::string_view method, std::string_view target, const Headers& headers,
                           std::string_view body,
                           std::chrono::milliseconds deadline = std::chrono::seconds(30));

    /// Sends a request, reads until `stop_after_bytes` body bytes arrived (0: just the head), then
    /// resets the connection (RST), as a client that goes away mid-stream.
    ClientResponse request_and_abort(std::string_view method, std::string_view target,
                                     const Headers& headers, std::string_view body,
                                     std::size_t stop_after_bytes,
                                     std::chrono::milliseconds deadline = std::chrono::seconds(30));

    /// Only sends the request (slow-client tests read later, or never). False if it could not be
    /// written before the deadline.
    bool send(std::string_view method, std::string_view target, const Headers& headers,
              std::string_view body, std::chrono::milliseconds deadline = std::chrono::seconds(30));

    /// Reads one response to a request already sent. `head_request`: the request was HEAD, so
    /// the response has no body whatever its headers say.
    ClientResponse read_response(std::chrono::milliseconds deadline = std::chrono::seconds(30),
                                 bool head_request = false);

    /// Sends raw bytes (malformed-request tests) and returns whatever comes back until the peer
    /// closes or the deadline passes.
    std::string raw(std::string_view bytes,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

    /// Closes the connection (FIN).
    void close();
    /// Closes and connects again to the same port; returns connected().
    bool reconnect();
    /// Whether the connection is open as far as this client knows.
    bool connected() const { return fd_ >= 0; }

  private:
    using Clock = std::chrono::steady_clock;
    void connect(int receive_buffer_bytes);
    bool write_all(std::string_view data, Clock::time_point deadline);
    // Reads more bytes into pending_; returns >0 on data, 0 on EOF, -1 on error, -2 on timeout.
    long read_some(Clock::time_point deadline);
    ClientResponse read_until(Clock::time_point deadline, bool head_request,
                              std::size_t abort_after_bytes, bool abort);
    void reset();

    std::uint16_t port_;
    int receive_buffer_bytes_ = 0;
    int fd_ = -1;
    std::string pending_;  // received bytes not yet parsed (keep-alive leftovers)
    std::string last_method_;
};

}  // namespace qcc::test
