// The admin API router: token check, a table of {method, path pattern, handler}, and the one
// place handler failures become Anthropic-shaped errors; also GET /metrics.
#include "admin/router.hpp"

#include <array>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "admin/handlers_backup.hpp"
#include "admin/json_text.hpp"
#include "admin/run_blocking.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "protocol/anthropic/error_body.hpp"
#include "protocol/http/headers.hpp"

namespace qcc::admin {

namespace {

struct Route {
    http::verb method;
    std::string_view pattern;  // "/api/endpoints/{name}": a {placeholder} matches one segment
    Handler handler;
};

const std::array kRoutes{
    Route{http::verb::get, "/api/status", &get_status},
    Route{http::verb::get, "/api/endpoints", &list_endpoints},
    Route{http::verb::post, "/api/endpoints", &create_endpoint},
    Route{http::verb::get, "/api/endpoints/{name}", &get_endpoint},
    Route{http::verb::patch, "/api/endpoints/{name}", &patch_endpoint},
    Route{http::verb::delete_, "/api/endpoints/{name}", &delete_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/enable", &enable_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/disable", &disable_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/release", &release_endpoint},
    Route{http::verb::post, "/api/endpoints/{name}/quarantine", &quarantine_endpoint},
    Route{http::verb::get, "/api/keys", &list_keys},
    Route{http::verb::post, "/api/keys", &create_key},
    Route{http::verb::post, "/api/keys/verify", &verify_key},
    Route{http::verb::patch, "/api/keys/{name}", &patch_key},
    Route{http::verb::delete_, "/api/keys/{name}", &revoke_key},
    Route{http::verb::get, "/api/settings", &list_settings},
    Route{http::verb::get, "/api/settings/{key}", &get_setting},
    Route{http::verb::put, "/api/settings/{key}", &put_setting},
    Route{http::verb::get, "/api/backup", &get_backup},
    Route{http::verb::post, "/api/backup/restore", &restore_backup},
    Route{http::verb::get, "/api/stats", &get_stats},
    Route{http::verb::get, "/api/requests", &list_requests},
    Route{http::verb::get, "/api/requests/{id}", &get_request},
    Route{http::verb::get, "/api/health/checks", &list_health_checks},
    Route{http::verb::post, "/api/health/check", &post_health_check},
    Route{http::verb::get, "/api/events/history", &list_events_history},
    Route{http::verb::get, "/api/events", &stream_events},
    Route{http::verb::get, "/api/sessions", &list_sessions},
};

/// Whether `segments` (decoded) match `pattern`; placeholders' values go to `params`.
bool match(std::string_view pattern, const std::vector<std::string>& segments,
           std::vector<std::string>& params) {
    params.clear();
    std::size_t i = 0;
    pattern.remove_prefix(1);  // leading '/'
    while (!pattern.empty()) {
        const auto slash = pattern.find('/');
        const auto part = pattern.substr(0, slash);
        pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
        if (i >= segments.size()) return false;
        if (part.starts_with('{')) {
            if (segments[i].empty()) return false;
            params.push_back(segments[i]);
        } else if (part != segments[i]) {
            return false;
        }
        ++i;
    }
    return i == segments.size();
}

asio::awaitable<bool> write_api_error(beast::tcp_stream& client, int status, std::string_view type,
                                      std::string_view message, bool keep_alive,
                                      std::string_view extra_headers = {}) {
    co_return co_await write_reply(client, status, "application/json",
                                   anthropic::error_body(type, message), keep_alive, extra_headers);
}

bool is_session_route(std::string_view path) {
    return path == "/api/login" || path == "/api/logout" || path == "/api/session";
}

std::int64_t unix_ms(UiSessions::Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

proxy::LocalAdmission forbidden_origin(const ClientRequest& head) {
    proxy::LocalAdmission a;
    a.accept = false;
    a.status = 403;
    a.error_type = "permission_error";
    const std::string_view origin = head[http::field::origin];
    a.message = "cross-origin request refused: Origin " +
                (origin.empty() ? std::string("(none)") : std::string(origin)) +
                " is not this server's";
    return a;
}

}  // namespace

Router::Router(AdminDeps deps) : deps_(std::move(deps)), throttle_(deps_.login_throttle) {
    // Dashboard sessions outlive a restart: the browser stays logged in.
    try {
        const auto now = UiSessions::Clock::now();
        for (auto& [hash, expires] : deps_.control.store().load_ui_sessions(unix_ms(now))) {
            sessions_.restore(std::move(hash),
                              UiSessions::Clock::time_point(std::chrono::milliseconds(expires)));
        }
    } catch (const std::exception& e) {
        spdlog::warn("dashboard sessions not restored: {}", e.what());
    }
    // Logins and logouts through other instances sharing the store.
    deps_.control.on_fleet_sync([this](store::Store& st) {
        const auto read_at = UiSessions::Clock::now();
        sessions_.sync(st.load_ui_sessions(unix_ms(read_at)), read_at);
    });
    deps_.metrics.gauge_func("qcc_event_subscribers", "Connected live-event (SSE) subscribers",
                             [hub = &deps_.hub](const metrics::Registry::Emit& emit) {
                                 emit({}, static_cast<double>(hub->subscribers()));
                             });
    deps_.metrics.counter_func("qcc_admin_logins_throttled_total",
                               "Wrong admin tokens answered late (429) after the free attempts",
                               [this](const metrics::Registry::Emit& emit) {
                                   emit({}, static_cast<double>(throttle_.throttled()));
                               });
}

proxy::LocalAdmission Router::session_admission(const ClientRequest& head, std::string_view) {
    // Login, logout and the session check come from the dashboard page itself.
    if (!same_origin(head)) return forbidden_origin(head);
    proxy::LocalAdmission a;
    a.body_limit = 4096;
    return a;
}

proxy::LocalAdmission Router::token_admission(const ClientRequest& head, std::string_view peer) {
    proxy::LocalAdmission a;
    if (admin_authorized(deps_.admin_token, head)) {
        throttle_.on_success(peer);
        a.authenticated = true;
        a.body_limit = kMaxBodyBytes;
        return a;
    }
    // The dashboard's session cookie. SameSite=Strict keeps other sites' pages from sending it;
    // the Origin check makes sure of it for anything that changes state and for the event stream.
    const auto cookie = cookie_value(head[http::field::cookie], kSessionCookie);
    if (!cookie.empty() && !deps_.admin_token.empty() &&
        sessions_.find(cookie, UiSessions::Clock::now())) {
        const std::string_view target = head.target();
        const bool reads = head.method() == http::verb::get || head.method() == http::verb::head;
        if ((!reads || target.starts_with("/api/events")) && !same_origin(head)) {
            return forbidden_origin(head);
        }
        a.authenticated = true;
        a.body_limit = kMaxBodyBytes;
        return a;
    }
    a.accept = false;
    const auto now = SteadyClock::instance().now();
    // Only a wrong token is a failed login; a request without one (a browser, a probe) is just
    // told what it needs.
    const bool presented = !qcc::http::bearer_token(head[http::field::authorization]).empty();
    if (presented) a.delay = throttle_.on_failure(peer, now);
    if (a.delay.count() > 0) {
        const auto wait_s = std::max<std::int64_t>(
            1, std::chrono::duration_cast<std::chrono::seconds>(throttle_.remaining(peer, now))
                   .count());
        a.status = 429;
        a.error_type = "rate_limit_error";
        a.message = "too many wrong admin tokens from " + std::string(peer) + "; try again in " +
                    std::to_string(wait_s) + " s";
        a.extra_headers = "retry-after: " + std::to_string(wait_s) + "\r\n";
        return a;
    }
    a.status = 401;
    a.error_type = "authentication_error";
    a.message = deps_.admin_token.empty()
                    ? "the admin API is disabled: no admin token is configured"
                    : "the admin API needs the admin token (Authorization: Bearer <token>)";
    return a;
}

proxy::LocalAdmission Router::admit(const ClientRequest& head, std::string_view peer) {
    const std::string_view target = head.target();
    const auto path = target.substr(0, target.find('?'));
    if (is_session_route(path)) return session_admission(head, peer);
    if (path.starts_with("/api/")) return token_admission(head, peer);
    if (path == "/metrics" && !deps_.control.snapshots().policy()->metrics_public) {
        auto a = token_admission(head, peer);
        if (!a.accept && a.status == 401) {
            a.message =
                "/metrics needs the admin token (Authorization: Bearer <token>) unless the "
                "setting metrics.public is true";
        }
        return a;
    }
    proxy::LocalAdmission a;
    a.body_limit = 64 * 1024;  // nothing else takes a body; a small one is read and ignored
    return a;
}

asio::awaitable<bool> Router::handle(const proxy::LocalRequest& request) {
    const std::string_view target = request.req.target();
    const auto path = target.substr(0, target.find('?'));
    bool keep = false;
    const bool browser =
        request.req[http::field::accept].find("text/html") != std::string_view::npos;
    if (path == "/metrics") {
        keep = co_await handle_metrics(request);
    } else if (is_session_route(path)) {
        keep = co_await handle_session(request);
    } else if (path.starts_with("/api/")) {
        keep = co_await handle_api(request);
    } else if (is_ui_path(path) && (path != "/" || browser)) {
        keep = co_await serve_ui(request);
    } else {
        keep = co_await proxy::write_error(
            request.client, 404, "not_found_error",
            "QCC serves /v1/* (and HEAD /, GET /healthz); no route " + std::string(path),
            request.keep_alive);
    }
    co_return keep;
}

asio::awaitable<bool> Router::handle_session(const proxy::LocalRequest& r) {
    // (Every string a co_await uses is a named local: GCC 12 mishandles temporaries that live
    // across a suspension.)
    const std::string_view target = r.req.target();
    const std::string path(target.substr(0, target.find('?')));
    const auto method = path == "/api/session" ? http::verb::get : http::verb::post;
    int status = 200;
    std::string type, message, body, headers;
    const auto now = UiSessions::Clock::now();
    const std::string cookie(cookie_value(r.req[http::field::cookie], kSessionCookie));
    const std::string attrs = "; HttpOnly; SameSite=Strict; Path=/";
    if (r.req.method() != method) {
        const std::string allow(http::to_string(method));
        status = 405;
        type = "invalid_request_error";
        message =
            std::string(r.req.method_string()) + " is not allowed on " + path + "; use " + allow;
        headers = "allow: " + allow + "\r\n";
    } else if (path == "/api/session") {
        const auto expires = cookie.empty() ? std::optional<UiSessions::Clock::time_point>()
                                            : sessions_.find(cookie, now);
        if (expires) {
            body = R"({"expires_at":)" + std::to_string(unix_ms(*expires)) + "}";
        } else {
            status = 401;
            type = "authentication_error";
            message = "not signed in (or the session expired)";
        }
    } else if (path == "/api/logout") {
        if (!cookie.empty() && sessions_.erase(cookie)) {
            auto forget = [ctl = &deps_.control, hash = UiSessions::hash_of(cookie)] {
                ctl->store().delete_ui_session(hash);
            };
            co_await persist(std::move(forget));
        }
        body = R"({"logged_out":true})";
        headers = "set-cookie: " + std::string(kSessionCookie) + "=" + attrs + "; Max-Age=0\r\n";
    } else {
        std::string session;
        login(r, now, status, type, message, body, headers, session);
        if (!session.empty()) {
            auto save = [ctl = &deps_.control, hash = UiSessions::hash_of(session),
                         expires = unix_ms(now + kSessionTtl)] {
                ctl->store().save_ui_session(hash, expires);
            };
            const bool saved = co_await persist(std::move(save));
            if (saved) sessions_.saved(session, UiSessions::Clock::now());
        }
    }
    if (status != 200) {
        co_return co_await write_api_error(r.client, status, type, message, r.keep_alive, headers);
    }
    co_return co_await write_reply(r.client, 200, "application/json", body, r.keep_alive, headers);
}

asio::awaitable<bool> Router::persist(std::function<void()> work) {
    // On the admin thread, never on a worker; a store failure costs the session its restart only.
    auto guarded = [work = std::move(work)]() -> bool {
        try {
            work();
            return true;
        } catch (const std::exception& e) {
            spdlog::warn("dashboard session not saved: {}", e.what());
            return false;
        }
    };
    co_return co_await run_blocking(deps_.control.admin_pool(), std::move(guarded));
}

void Router::login(const proxy::LocalRequest& r, UiSessions::Clock::time_point now, int& status,
                   std::string& type, std::string& message, std::string& body, std::string& headers,
                   std::string& session) {
    // POST /api/login {"token": "..."}
    boost::system::error_code ec;
    const auto parsed = json::parse(r.req.body(), ec);
    const auto* obj = ec ? nullptr : parsed.if_object();
    const auto* t = obj != nullptr ? obj->if_contains("token") : nullptr;
    if (t == nullptr || !t->is_string() || obj->size() != 1) {
        status = 400;
        type = "invalid_request_error";
        message = R"(body: expected {"token": "<admin token>"})";
        return;
    }
    const std::string_view token(t->get_string());
    const auto steady = SteadyClock::instance().now();
    if (deps_.admin_token.empty() || !crypto::constant_time_equal(token, deps_.admin_token)) {
        const auto delay = throttle_.on_failure(r.peer, steady);
        if (delay.count() > 0) {
            const auto wait_s =
                std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                              throttle_.remaining(r.peer, steady))
                                              .count());
            status = 429;
            type = "rate_limit_error";
            message = "too many wrong admin tokens from " + std::string(r.peer) +
                      "; try again in " + std::to_string(wait_s) + " s";
            headers = "retry-after: " + std::to_string(wait_s) + "\r\n";
            return;
        }
        status = 401;
        type = "authentication_error";
        message = deps_.admin_token.empty()
                      ? "the admin API is disabled: no admin token is configured"
                      : "invalid admin token (it is in admin.token in QCC's data directory, or "
                        "the admin_token setting / QCC_ADMIN_TOKEN)";
        return;
    }
    throttle_.on_success(r.peer);
    session = sessions_.create(now);
    body = R"({"expires_at":)" + std::to_string(unix_ms(now + kSessionTtl)) + "}";
    headers =
        "set-cookie: " + std::string(kSessionCookie) + "=" + session +
        "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kSessionTtl).count()) +
        "\r\n";
}

asio::awaitable<bool> Router::handle_metrics(const proxy::LocalRequest& r) {
    int status = 200;
    std::string type, message, body;
    if (r.req.method() != http::verb::get) {
        status = 405;
        type = "invalid_request_error";
        message = std::string(r.req.method_string()) + " is not allowed on /metrics; use GET";
    } else {
        try {
            body = deps_.metrics.render();
        } catch (const std::exception& e) {
            spdlog::error("/metrics: {}", e.what());
            status = 500;
            type = "api_error";
            message = std::string("internal error: ") + e.what();
        }
    }
    if (status != 200) {
        co_return co_await write_reply(r.client, status, "application/json",
                                       anthropic::error_body(type, message), r.keep_alive,
                                       status == 405 ? "allow: GET\r\n" : "");
    }
    co_return co_await write_reply(r.client, 200, "text/plain; version=0.0.4; charset=utf-8", body,
                                   r.keep_alive);
}

asio::awaitable<bool> Router::handle_api(const proxy::LocalRequest& r) {
    auto& client = r.client;
    auto& req = r.req;
    const bool keep_alive = r.keep_alive;
    // Authenticated from the head already (admit()).
    auto url = boost::urls::parse_origin_form(req.target());
    if (!url) {
        co_return co_await write_api_error(client, 400, "invalid_request_error",
                                           "malformed request target", keep_alive);
    }
    std::vector<std::string> segments;
    for (auto seg : url->segments()) segments.push_back(std::string(seg));
    Call call{deps_, deps_.control, client, req, keep_alive, r.draining, {}, {}};
    for (auto p : url->params()) {
        call.query.emplace_back(std::string(p.key), std::string(p.value));
    }

    const Route* route = nullptr;
    std::string allow;
    for (const auto& candidate : kRoutes) {
        std::vector<std::string> params;
        if (!match(candidate.pattern, segments, params)) continue;
        if (!allow.empty()) allow += ", ";
        allow += std::string(http::to_string(candidate.method));
        if (candidate.method == req.method()) {
            route = &candidate;
            call.params = std::move(params);
        }
    }
    const std::string path(url->path());
    if (route == nullptr && allow.empty()) {
        co_return co_await write_api_error(client, 404, "not_found_error",
                                           "no admin route " + path + " (see docs/admin-api.md)",
                                           keep_alive);
    }
    if (route == nullptr) {
        co_return co_await write_api_error(
            client, 405, "invalid_request_error",
            std::string(req.method_string()) + " is not allowed on " + path + "; use " + allow,
            keep_alive, "allow: " + allow + "\r\n");
    }

    Reply reply;
    int error_status = 0;
    std::string error_type, error_message;
    try {
        reply = co_await route->handler(call);
    } catch (const ApiError& e) {
        error_status = e.status();
        error_type = e.type();
        error_message = e.what();
    } catch (const std::exception& e) {
        spdlog::error("admin {} {}: {}", req.method_string(), path, e.what());
        error_status = 500;
        error_type = "api_error";
        error_message = std::string("internal error: ") + e.what();
    } catch (...) {
        spdlog::error("admin {} {}: unknown exception", req.method_string(), path);
        error_status = 500;
        error_type = "api_error";
        error_message = "internal error";
    }
    if (error_status != 0) {
        co_return co_await write_api_error(client, error_status, error_type, error_message,
                                           keep_alive);
    }
    if (reply.written) co_return reply.keep&& keep_alive;
    const auto text = to_json_text(reply.body);
    co_return co_await write_reply(client, reply.status, "application/json", text, keep_alive);
}

}  // namespace qcc::admin
