#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/prom_check.hpp"

namespace qcc::metrics {
namespace {

using test::prom::check_exposition;

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += s + "\n";
    return out;
}

// ---------------------------------------------------------------------------------------------

TEST(Metrics, CounterAndGaugeValues) {
    Counter c;
    EXPECT_EQ(c.value(), 0u);
    c.inc();
    c.inc(41);
    EXPECT_EQ(c.value(), 42u);

    Gauge g;
    EXPECT_EQ(g.value(), 0.0);
    g.set(2.5);
    g.add(-4);
    EXPECT_EQ(g.value(), -1.5);
    g.add(0.25);
    EXPECT_EQ(g.value(), -1.25);
}

TEST(Metrics, HistogramBucketsAreInclusiveUpperBounds) {
    const std::vector<double> bounds = {1, 2, 5};
    Histogram h(bounds);
    for (double v : {-3.0, 0.0, 1.0}) h.observe(v);                 // le=1
    for (double v : {std::nextafter(1.0, 2.0), 2.0}) h.observe(v);  // le=2
    h.observe(5.0);                                                 // le=5
    h.observe(std::nextafter(5.0, 6.0));                            // +Inf
    h.observe(std::numeric_limits<double>::quiet_NaN());            // ignored
    const Histogram::Snapshot s = h.snapshot();
    EXPECT_EQ(s.bounds, bounds);
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{3, 5, 6, 7}));
    EXPECT_EQ(s.count, 7u);
    EXPECT_DOUBLE_EQ(s.sum,
                     -3.0 + 0 + 1 + std::nextafter(1.0, 2.0) + 2 + 5 + std::nextafter(5.0, 6.0));

    h.observe(std::numeric_limits<double>::infinity());
    EXPECT_EQ(h.snapshot().cumulative.back(), 8u);
    EXPECT_EQ(h.snapshot().cumulative[2], 6u);
}

TEST(Metrics, HistogramBoundsValidation) {
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(Histogram(std::vector<double>{0.5, inf}).bounds(), std::vector<double>{0.5});
    EXPECT_TRUE(Histogram(std::vector<double>{}).bounds().empty());
    EXPECT_THROW(Histogram(std::vector<double>{1, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram(std::vector<double>{2, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram(std::vector<double>{-inf, 1}), std::invalid_argument);
    EXPECT_THROW(Histogram(std::vector<double>{std::nan(""), 1}), std::invalid_argument);

    Histogram only_inf(std::vector<double>{});
    only_inf.observe(7);
    EXPECT_EQ(only_inf.snapshot().cumulative, std::vector<std::uint64_t>{1});
}

TEST(Metrics, LatencyBuckets) {
    const auto b = latency_buckets_seconds();
    ASSERT_GE(b.size(), 15u);
    EXPECT_EQ(b.front(), 0.005);
    EXPECT_EQ(b.back(), 600.0);
    EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
    EXPECT_EQ(std::adjacent_find(b.begin(), b.end()), b.end());
}

TEST(Metrics, ConcurrentUpdatesAreExact) {
    Registry r;
    Counter& c = r.counter("c_total", "c");
    Gauge& g = r.gauge("g", "g");
    Histogram& h = r.histogram("h", "h", latency_buckets_seconds());
    constexpr int kThreads = 4;
    constexpr int kPerThread = 50'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                c.inc();
                g.add(1.0);
                h.observe(t == 0 ? 0.001 : 1.0);  // integral and dyadic sums stay exact
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(c.value(), std::uint64_t{kThreads} * kPerThread);
    EXPECT_EQ(g.value(), double{kThreads} * kPerThread);
    const auto s = h.snapshot();
    EXPECT_EQ(s.count, std::uint64_t{kThreads} * kPerThread);
    EXPECT_EQ(s.cumulative.front(), std::uint64_t{kPerThread});  // 0.001 <= 0.005
    EXPECT_NEAR(s.sum, kPerThread * 0.001 + (kThreads - 1) * kPerThread * 1.0, 1e-6);
}

TEST(Metrics, ConcurrentCreationReturnsOneObjectPerSeries) {
    Registry r;
    constexpr int kThreads = 4;
    std::vector<Counter*> seen(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 1000; ++i) {
                Counter& c = r.counter("x_total", "x", {{"k", std::to_string(i % 10)}});
                c.inc();
                if (i == 0) seen[static_cast<std::size_t>(t)] = &c;
            }
        });
    }
    for (auto& th : threads) th.join();
    for (Counter* c : seen) EXPECT_EQ(c, seen[0]);
    EXPECT_EQ(seen[0]->value(), std::uint64_t{kThreads} * 100);
}

TEST(Metrics, SameNameAndLabelsGiveSameObject) {
    Registry r;
    Counter& a = r.counter("req_total", "Requests.", {{"a", "1"}, {"b", "2"}});
    Counter& b = r.counter("req_total", "ignored", {{"b", "2"}, {"a", "1"}});
    Counter& c = r.counter("req_total", "Requests.", {{"a", "1"}, {"b", "3"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &c);
    EXPECT_EQ(&r.gauge("g", "g"), &r.gauge("g", "g"));
    const std::vector<double> bounds = {1, 2};
    EXPECT_EQ(&r.histogram("h", "h", bounds), &r.histogram("h", "h", bounds));
    a.inc(2);
    // The first registration fixes the help text and the label order.
    EXPECT_EQ(r.render(),
              "# HELP g g\n# TYPE g gauge\ng 0\n"
              "# HELP h h\n# TYPE h histogram\n"
              "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
              "h_sum 0\nh_count 0\n"
              "# HELP req_total Requests.\n# TYPE req_total counter\n"
              "req_total{a=\"1\",b=\"2\"} 2\nreq_total{a=\"1\",b=\"3\"} 0\n");
}

TEST(Metrics, RenderSmallRegistryExactly) {
    Registry r;
    r.counter("qcc_requests_total", "Requests answered.", {{"endpoint", "a"}, {"status", "200"}})
        .inc(3);
    r.counter("qcc_requests_total", "Requests answered.", {{"endpoint", "b"}, {"status", "529"}})
        .inc();
    r.gauge("qcc_in_flight", "Requests in flight.").set(2);
    const std::vector<double> bounds = {0.25, 1};
    Histogram& h =
        r.histogram("qcc_latency_seconds", "Total latency.", bounds, {{"endpoint", "a"}});
    for (double v : {0.125, 0.25, 0.5, 3.0}) h.observe(v);
    r.gauge("qcc_cost_usd", "Cost.").set(0.1);

    EXPECT_EQ(r.render(),
              "# HELP qcc_cost_usd Cost.\n"
              "# TYPE qcc_cost_usd gauge\n"
              "qcc_cost_usd 0.1\n"
              "# HELP qcc_in_flight Requests in flight.\n"
              "# TYPE qcc_in_flight gauge\n"
              "qcc_in_flight 2\n"
              "# HELP qcc_latency_seconds Total latency.\n"
              "# TYPE qcc_latency_seconds histogram\n"
              "qcc_latency_seconds_bucket{endpoint=\"a\",le=\"0.25\"} 2\n"
              "qcc_latency_seconds_bucket{endpoint=\"a\",le=\"1\"} 3\n"
              "qcc_latency_seconds_bucket{endpoint=\"a\",le=\"+Inf\"} 4\n"
              "qcc_latency_seconds_sum{endpoint=\"a\"} 3.875\n"
              "qcc_latency_seconds_count{endpoint=\"a\"} 4\n"
              "# HELP qcc_requests_total Requests answered.\n"
              "# TYPE qcc_requests_total counter\n"
              "qcc_requests_total{endpoint=\"a\",status=\"200\"} 3\n"
              "qcc_requests_total{endpoint=\"b\",status=\"529\"} 1\n");
}

TEST(Metrics, RenderEmptyRegistryAndEmptyFamilies) {
    Registry r;
    EXPECT_EQ(r.render(), "");
    r.gauge_func("qcc_nothing", "Emits nothing.", [](const Registry::Emit&) {});
    r.counter("qcc_rare_total", "Rare.", {{"kind", "x"}}, /*hide_zero=*/true);
    EXPECT_EQ(r.render(), "");
}

TEST(Metrics, LabelAndHelpEscaping) {
    Registry r;
    r.counter("esc_total", "Back\\slash, \"quotes\" and\nnewline.",
              {{"v", "a\\b\"c\nd"}, {"u", "ünï €"}})
        .inc();
    EXPECT_EQ(r.render(),
              "# HELP esc_total Back\\\\slash, \"quotes\" and\\nnewline.\n"
              "# TYPE esc_total counter\n"
              "esc_total{v=\"a\\\\b\\\"c\\nd\",u=\"ünï €\"} 1\n");
    EXPECT_EQ(check_exposition(r.render()), std::vector<std::string>{});
}

TEST(Metrics, HideZeroCounters) {
    Registry r;
    Counter& shown = r.counter("err_total", "Errors.", {{"class", "timeout"}});
    Counter& hidden = r.counter("err_total", "Errors.", {{"class", "tls"}}, true);
    EXPECT_EQ(r.render(),
              "# HELP err_total Errors.\n# TYPE err_total counter\n"
              "err_total{class=\"timeout\"} 0\n");
    hidden.inc();
    shown.inc(2);
    EXPECT_EQ(r.render(),
              "# HELP err_total Errors.\n# TYPE err_total counter\n"
              "err_total{class=\"timeout\"} 2\nerr_total{class=\"tls\"} 1\n");
}

TEST(Metrics, FuncFamilies) {
    Registry r;
    std::atomic<std::uint64_t> source{7};
    r.counter_func("qcc_dropped_total", "Dropped rows.", [&](const Registry::Emit& emit) {
        emit({}, static_cast<double>(source.load()));
    });
    r.gauge_func("qcc_breaker_state", "Breaker state.", [](const Registry::Emit& emit) {
        emit({{"endpoint", "a"}}, 0);
        emit({{"bad-name", "x"}}, 1);  // invalid label name: skipped
        emit({{"endpoint", "b"}}, 2.5);
        emit({{"endpoint", "c"}, {"endpoint", "d"}}, 3);  // duplicate label: skipped
    });
    r.gauge_func("qcc_throws", "Broken.", [](const Registry::Emit& emit) {
        emit({}, 1);
        throw std::runtime_error("boom");
    });
    EXPECT_EQ(r.render(),
              "# HELP qcc_breaker_state Breaker state.\n# TYPE qcc_breaker_state gauge\n"
              "qcc_breaker_state{endpoint=\"a\"} 0\nqcc_breaker_state{endpoint=\"b\"} 2.5\n"
              "# HELP qcc_dropped_total Dropped rows.\n# TYPE qcc_dropped_total counter\n"
              "qcc_dropped_total 7\n");
    source = 9;
    // Re-registering replaces the function (configuration reload).
    r.gauge_func("qcc_breaker_state", "Breaker state (0 closed).", [](const Registry::Emit& emit) {
        emit({{"endpoint", "z"}}, 1);
    });
    EXPECT_EQ(r.render(),
              "# HELP qcc_breaker_state Breaker state (0 closed).\n"
              "# TYPE qcc_breaker_state gauge\n"
              "qcc_breaker_state{endpoint=\"z\"} 1\n"
              "# HELP qcc_dropped_total Dropped rows.\n# TYPE qcc_dropped_total counter\n"
              "qcc_dropped_total 9\n");
}

TEST(Metrics, InvalidNamesAndConflictsThrow) {
    Registry r;
    for (std::string_view bad : {"", "1abc", "a-b", "a b", "é", "a.b"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(r.counter(bad, "x"), std::invalid_argument);
        EXPECT_THROW(r.gauge(bad, "x"), std::invalid_argument);
        EXPECT_THROW(r.gauge_func(bad, "x", nullptr), std::invalid_argument);
    }
    EXPECT_NO_THROW(r.counter("_a:b_c9", "x"));
    EXPECT_NO_THROW(r.counter(":ok", "x"));

    for (std::string_view bad : {"", "1a", "a:b", "a-b", "__reserved"}) {
        SCOPED_TRACE(bad);
        EXPECT_THROW(r.counter("lbl_total", "x", {{std::string(bad), "v"}}), std::invalid_argument);
    }
    EXPECT_THROW(r.counter("dup_total", "x", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
    const std::vector<double> bounds = {1};
    EXPECT_THROW(r.histogram("h_seconds", "x", bounds, {{"le", "1"}}), std::invalid_argument);
    EXPECT_NO_THROW(r.counter("le_ok_total", "x", {{"le", "1"}}));

    // One name, one type.
    r.counter("kind_total", "x");
    EXPECT_THROW(r.gauge("kind_total", "x"), std::invalid_argument);
    EXPECT_THROW(r.histogram("kind_total", "x", bounds), std::invalid_argument);
    EXPECT_THROW(r.counter_func("kind_total", "x", nullptr), std::invalid_argument);
    r.gauge("g", "x");
    EXPECT_THROW(r.counter("g", "x"), std::invalid_argument);
    EXPECT_THROW(r.gauge_func("g", "x", nullptr), std::invalid_argument);

    // A histogram's derived names are taken.
    r.histogram("lat_seconds", "x", bounds);
    EXPECT_THROW(r.counter("lat_seconds_count", "x"), std::invalid_argument);
    EXPECT_THROW(r.gauge("lat_seconds_sum", "x"), std::invalid_argument);
    EXPECT_THROW(r.gauge("lat_seconds_bucket", "x"), std::invalid_argument);
    r.gauge("size_bytes_sum", "x");
    EXPECT_THROW(r.histogram("size_bytes", "x", bounds), std::invalid_argument);

    // Same family, other bounds; invalid bounds.
    const std::vector<double> other = {1, 2};
    EXPECT_THROW(r.histogram("lat_seconds", "x", other, {{"a", "b"}}), std::invalid_argument);
    const std::vector<double> unsorted = {2, 1};
    EXPECT_THROW(r.histogram("new_seconds", "x", unsorted), std::invalid_argument);

    // Nothing half-registered by the failures above.
    EXPECT_EQ(check_exposition(r.render()), std::vector<std::string>{});
    EXPECT_EQ(r.render().find("new_seconds"), std::string::npos);
}

TEST(Metrics, FormatValue) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(-0.0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(-7), "-7");
    EXPECT_EQ(format_value(1e15), "1000000000000000");
    EXPECT_EQ(format_value(1e20), "100000000000000000000");
    EXPECT_EQ(format_value(9007199254740993.0), "9007199254740992");
    EXPECT_EQ(format_value(0.005), "0.005");
    EXPECT_EQ(format_value(2.5), "2.5");
    EXPECT_EQ(format_value(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    for (double v : {1e-7, 123.456, -3.25e-300, 1.7976931348623157e308, 5e-324}) {
        SCOPED_TRACE(v);
        const std::string s = format_value(v);
        EXPECT_EQ(std::strtod(s.c_str(), nullptr), v);  // round-trips exactly
    }
}

TEST(Metrics, NonFiniteValuesRender) {
    Registry r;
    r.gauge("nan_g", "x").set(std::numeric_limits<double>::quiet_NaN());
    r.gauge("pinf_g", "x").set(std::numeric_limits<double>::infinity());
    r.gauge("ninf_g", "x").set(-std::numeric_limits<double>::infinity());
    EXPECT_EQ(r.render(),
              "# HELP nan_g x\n# TYPE nan_g gauge\nnan_g NaN\n"
              "# HELP ninf_g x\n# TYPE ninf_g gauge\nninf_g -Inf\n"
              "# HELP pinf_g x\n# TYPE pinf_g gauge\npinf_g +Inf\n");
    EXPECT_EQ(check_exposition(r.render()), std::vector<std::string>{});
}

TEST(ExpositionChecker, RejectsBrokenTexts) {
    const std::vector<std::string> broken = {
        "x 1\n",                                                           // no TYPE
        "# TYPE x counter\nx 1",                                           // no final newline
        "# TYPE x counter\n\nx 1\n",                                       // empty line
        "# TYPE x counter\nx{a=\"1\",} 1\n",                               // trailing comma
        "# TYPE x counter\nx{a=\"1\"b=\"2\"} 1\n",                         // missing comma
        "# TYPE x counter\nx{a=\"\\t\"} 1\n",                              // bad escape
        "# TYPE x counter\nx{a=1} 1\n",                                    // unquoted
        "# TYPE x counter\nx 1e\n",                                        // bad number
        "# TYPE x counter\nx -1\n",                                        // negative counter
        "# TYPE x counter\nx 1\nx 2\n",                                    // duplicate series
        "# TYPE x counter\n# TYPE x counter\nx 1\n",                       // TYPE twice
        "# TYPE x counter\nx 1\n# HELP x late\n",                          // HELP after samples
        "# TYPE y gauge\ny 1\n# TYPE x gauge\nx 1\n",                      // not sorted
        "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"b\"} 2\n",        // not contiguous
        "# TYPE x gauge\n",                                                // family without samples
        "# TYPE x gauge\nx 1 2 3\n",                                       // junk
        "# TYPE x wat\nx 1\n",                                             // unknown type
        "# HELP x a\\tb\n# TYPE x gauge\nx 1\n",                           // bad HELP escape
        "# TYPE h histogram\nh 1\n",                                       // bare histogram sample
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
        "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",  // +Inf != count
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",           // no _sum
        "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n",               // bucket without le
        "# comment\n# TYPE x gauge\nx 1\n",                                   // stray comment
    };
    for (const std::string& text : broken) {
        EXPECT_FALSE(check_exposition(text).empty()) << text;
    }
    EXPECT_EQ(check_exposition("# HELP x ok \\\\ \\n\n# TYPE x gauge\nx{a=\"\\\"\"} -1.5e3\n"),
              std::vector<std::string>{});
}

TEST(Metrics, BigRegistryPassesTheGrammarChecker) {
    Registry r;
    const std::vector<std::string> endpoints = {"primary", "backup \"eu\"", "odd\\name", "nl\nx",
                                                "ünicode"};
    const std::vector<std::string> statuses = {"200", "400", "429", "500", "529"};
    const std::vector<std::string> classes = {"", "timeout", "overloaded", "reset"};
    std::uint64_t expected_requests = 0;
    for (const auto& e : endpoints) {
        for (const auto& s : statuses) {
            for (const auto& c : classes) {
                const std::uint64_t n = e.size() + s.size() + c.size();
                r.counter("qcc_requests_total", "Requests by endpoint, status and class.",
                          {{"endpoint", e}, {"status", s}, {"class", c}}, /*hide_zero=*/true)
                    .inc(n % 3 == 0 ? 0 : n);
                if (n % 3 != 0) expected_requests += n;
            }
        }
        r.gauge("qcc_endpoint_in_flight", "In flight per endpoint.", {{"endpoint", e}})
            .set(static_cast<double>(e.size()) / 4);
        Histogram& lat = r.histogram("qcc_request_duration_seconds", "Total time.",
                                     latency_buckets_seconds(), {{"endpoint", e}});
        Histogram& ttfb = r.histogram("qcc_ttfb_seconds", "Time to first byte.",
                                      latency_buckets_seconds(), {{"endpoint", e}});
        for (int i = 0; i < 1000; ++i) {
            lat.observe(i * 0.7);
            ttfb.observe(0.005 * i);
        }
    }
    r.histogram("qcc_unlabelled_seconds", "No labels.", latency_buckets_seconds()).observe(1);
    for (int i = 0; i < 40; ++i) {
        r.counter("qcc_family_" + std::to_string(i) + "_total", "Generated family.",
                  {{"i", std::to_string(i)}})
            .inc(static_cast<std::uint64_t>(i));
        r.gauge("qcc_gauge_" + std::to_string(i), "Generated gauge.").set(-i * 0.5);
    }
    r.gauge_func("qcc_breaker_open", "Open breakers.", [&](const Registry::Emit& emit) {
        for (const auto& e : endpoints) emit({{"endpoint", e}}, 1);
    });
    r.counter_func("qcc_log_rows_dropped_total", "Dropped log rows.",
                   [](const Registry::Emit& emit) { emit({}, 12345678901.0); });
    r.gauge("qcc_weird", "Weird values.", {{"v", "nan"}})
        .set(std::numeric_limits<double>::quiet_NaN());
    r.gauge("qcc_weird", "Weird values.", {{"v", "inf"}})
        .set(std::numeric_limits<double>::infinity());

    const std::string text = r.render();
    const auto errors = check_exposition(text);
    EXPECT_TRUE(errors.empty()) << join(errors);

    // Spot-check content: totals survive the rendering.
    std::uint64_t rendered_requests = 0;
    std::size_t request_lines = 0;
    std::size_t pos = 0;
    while ((pos = text.find("\nqcc_requests_total{", pos)) != std::string::npos) {
        const std::size_t eol = text.find('\n', pos + 1);
        const std::size_t space = text.rfind(' ', eol);
        rendered_requests += std::stoull(text.substr(space + 1, eol - space - 1));
        ++request_lines;
        pos = eol;
    }
    EXPECT_EQ(rendered_requests, expected_requests);
    EXPECT_LT(request_lines, endpoints.size() * statuses.size() * classes.size());  // hidden zeros
    EXPECT_NE(text.find("qcc_request_duration_seconds_count{endpoint=\"primary\"} 1000\n"),
              std::string::npos);
    EXPECT_NE(text.find("qcc_log_rows_dropped_total 12345678901\n"), std::string::npos);
    EXPECT_NE(text.find("qcc_unlabelled_seconds_bucket{le=\"1\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace qcc::metrics
