#include "protocol/anthropic/pricing.hpp"

#include <string>

#include <gtest/gtest.h>

namespace qcc::anthropic {
namespace {

Usage make_usage(std::int64_t in, std::int64_t out, std::int64_t cache_create, std::int64_t read,
                 std::int64_t split_5m = 0, std::int64_t split_1h = 0) {
    Usage u;
    u.input_tokens = in;
    u.output_tokens = out;
    u.cache_creation_input_tokens = cache_create;
    u.cache_read_input_tokens = read;
    u.cache_creation_5m = split_5m;
    u.cache_creation_1h = split_1h;
    return u;
}

TEST(PriceTable, BuiltinPricesMatchThePublishedList) {
    const PriceTable& t = PriceTable::builtin();
    struct Row {
        const char* model;
        Price price;
    };
    const Row rows[] = {
        {"claude-opus-4-5", {5, 25, 6.25, 10, 0.50}},
        {"claude-opus-4-1", {15, 75, 18.75, 30, 1.50}},
        {"claude-opus-4", {15, 75, 18.75, 30, 1.50}},
        {"claude-sonnet-4-5", {3, 15, 3.75, 6, 0.30}},
        {"claude-sonnet-4", {3, 15, 3.75, 6, 0.30}},
        {"claude-3-7-sonnet", {3, 15, 3.75, 6, 0.30}},
        {"claude-haiku-4-5", {1, 5, 1.25, 2, 0.10}},
        {"claude-3-5-haiku", {0.80, 4, 1, 1.6, 0.08}},
        {"claude-3-5-sonnet", {3, 15, 3.75, 6, 0.30}},
        {"claude-3-opus", {15, 75, 18.75, 30, 1.50}},
        {"claude-3-haiku", {0.25, 1.25, 0.30, 0.50, 0.03}},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.model);
        const Price* p = t.find(row.model);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(*p, row.price);
    }
    const auto entries = t.entries();
    EXPECT_TRUE(std::is_sorted(entries.begin(), entries.end(),
                               [](const auto& a, const auto& b) { return a.first < b.first; }));
}

TEST(PriceTable, ExactPrefixAndDatedIds) {
    const PriceTable& t = PriceTable::builtin();
    EXPECT_EQ(t.find("claude-sonnet-4-5-20250929"), t.find("claude-sonnet-4-5"));
    EXPECT_EQ(t.find("claude-opus-4-1-20250805"), t.find("claude-opus-4-1"));
    EXPECT_EQ(t.find("claude-haiku-4-5-20251001"), t.find("claude-haiku-4-5"));
    EXPECT_EQ(t.find("claude-3-5-haiku-latest"), t.find("claude-3-5-haiku"));
    EXPECT_EQ(t.find("claude-3-haiku-20240307"), t.find("claude-3-haiku"));
    // The longest prefix wins: Opus 4 and 4.1 cost 3x what Opus 4.5 and later cost.
    EXPECT_EQ(t.find("claude-opus-4-20250514")->input, 15);
    EXPECT_EQ(t.find("claude-opus-4-0")->input, 15);
    EXPECT_EQ(t.find("claude-opus-4-5-20251101")->input, 5);
    EXPECT_EQ(t.find("claude-opus-4-8")->input, 5);
    EXPECT_EQ(t.find("claude-sonnet-4-20250514")->cache_write_1h, 6);
}

TEST(PriceTable, UnknownModels) {
    const PriceTable& t = PriceTable::builtin();
    for (std::string_view m :
         {"", "gpt-4o", "claude", "claude-", "claude-opu", "claude-instant-1.2", "claude-haiku-5-5",
          "CLAUDE-OPUS-4-5", "xclaude-opus-4-5"}) {
        SCOPED_TRACE(m);
        EXPECT_EQ(t.find(m), nullptr);
    }
    EXPECT_EQ(PriceTable().find("claude-opus-4-5"), nullptr);
}

TEST(CostUsd, Arithmetic) {
    const Price opus45{5, 25, 6.25, 10, 0.50};
    // 1M input + 1M output = $5 + $25.
    EXPECT_DOUBLE_EQ(cost_usd(opus45, make_usage(1'000'000, 1'000'000, 0, 0)), 30.0);
    // 2,000 in, 500 out, 10,000 read: 0.01 + 0.0125 + 0.005.
    EXPECT_DOUBLE_EQ(cost_usd(opus45, make_usage(2'000, 500, 0, 10'000)), 0.0275);
    // Split known: 100k 5m writes ($0.625) + 50k 1h writes ($0.50).
    EXPECT_DOUBLE_EQ(cost_usd(opus45, make_usage(0, 0, 150'000, 0, 100'000, 50'000)), 1.125);
    // Only 1h writes.
    EXPECT_DOUBLE_EQ(cost_usd(opus45, make_usage(0, 0, 200'000, 0, 0, 200'000)), 2.0);
    EXPECT_EQ(cost_usd(opus45, Usage{}), 0.0);

    const Price haiku3{0.25, 1.25, 0.30, 0.50, 0.03};
    // 21 in, 393 out, 188,086 written (5m), 4,096 read.
    EXPECT_NEAR(cost_usd(haiku3, make_usage(21, 393, 188'086, 4'096)),
                (21 * 0.25 + 393 * 1.25 + 188'086 * 0.30 + 4'096 * 0.03) / 1e6, 1e-15);
}

TEST(CostUsd, UnsplitCacheCreationCountsAsFiveMinuteWrites) {
    const Price sonnet{3, 15, 3.75, 6, 0.30};
    const Usage unsplit = make_usage(0, 0, 1'000'000, 0);
    EXPECT_DOUBLE_EQ(cost_usd(sonnet, unsplit), 3.75);
    EXPECT_EQ(cost_usd(sonnet, unsplit),
              cost_usd(sonnet, make_usage(0, 0, 1'000'000, 0, 1'000'000)));
    // A split that covers only part of the total: the rest is 5m.
    EXPECT_DOUBLE_EQ(cost_usd(sonnet, make_usage(0, 0, 1'000'000, 0, 0, 400'000)),
                     0.6 * 3.75 + 0.4 * 6);
    // A split larger than the total (total missing) is still paid as reported.
    EXPECT_DOUBLE_EQ(cost_usd(sonnet, make_usage(0, 0, 0, 0, 1'000'000, 1'000'000)), 3.75 + 6);
}

TEST(PriceOverrides, ValidOverridesInheritMissingFields) {
    const PriceTable& base = PriceTable::builtin();
    std::string error = "untouched";
    const auto t = base.with_overrides(
        R"({"claude-sonnet-4-5": {"input": 2, "cache_read": 0},
            "my-model": {"output": 1.5, "input": 0.5},
            "claude-opus-4-5-20251101": {"output": 20},
            "claude-3-haiku": {"input": 1, "output": 2, "cache_write_5m": 3,
                               "cache_write_1h": 4, "cache_read": 5}})",
        &error);
    ASSERT_TRUE(t.has_value()) << error;
    EXPECT_EQ(error, "untouched");
    EXPECT_EQ(*t->find("claude-sonnet-4-5"), (Price{2, 15, 3.75, 6, 0}));
    EXPECT_EQ(*t->find("claude-sonnet-4-5-20250929"), (Price{2, 15, 3.75, 6, 0}));
    EXPECT_EQ(*t->find("my-model-v2"), (Price{0.5, 1.5, 0, 0, 0}));
    // A new, more specific entry inherits what find() resolved for it; its parent is unchanged.
    EXPECT_EQ(*t->find("claude-opus-4-5-20251101"), (Price{5, 20, 6.25, 10, 0.50}));
    EXPECT_EQ(*t->find("claude-opus-4-5"), (Price{5, 25, 6.25, 10, 0.50}));
    EXPECT_EQ(*t->find("claude-3-haiku"), (Price{1, 2, 3, 4, 5}));
    // Untouched entries and the original table stay as they were.
    EXPECT_EQ(*t->find("claude-haiku-4-5"), *base.find("claude-haiku-4-5"));
    EXPECT_EQ(base.find("my-model"), nullptr);
    EXPECT_EQ(base.find("claude-sonnet-4-5")->input, 3);
    EXPECT_EQ(t->entries().size(), base.entries().size() + 2);

    for (std::string_view empty : {"", "  \n", "{}"}) {
        const auto same = base.with_overrides(empty, nullptr);
        ASSERT_TRUE(same.has_value()) << empty;
        EXPECT_EQ(same->entries(), base.entries());
    }
    // Large integers and exponent notation are numbers too.
    const auto big =
        base.with_overrides(R"({"m": {"input": 18446744073709551615, "output": 1e2}})", nullptr);
    ASSERT_TRUE(big.has_value());
    EXPECT_EQ(big->find("m")->output, 100);
}

TEST(PriceOverrides, InvalidOverridesNameModelAndField) {
    const PriceTable& base = PriceTable::builtin();
    struct Case {
        const char* json;
        const char* error;
    };
    const Case cases[] = {
        {R"({"m": {"input": 1})", "pricing overrides: invalid JSON at offset 18: "},
        {R"({"m": {"input": 1}} x)", "pricing overrides: invalid JSON at offset 20: "},
        {R"({"m": {"input": 1,}})", "pricing overrides: invalid JSON at offset 18: "},
        {R"([1, 2])",
         "pricing overrides: expected a JSON object mapping model ids (or prefixes) to prices, "
         "got [1,2]"},
        {R"({"": {"input": 1}})", "pricing overrides: empty model id"},
        {R"({"claude-x": 3})",
         "pricing override for model \"claude-x\": expected an object with any of input, output, "
         "cache_write_5m, cache_write_1h, cache_read, got 3"},
        {R"({"claude-x": {"input": 1, "cache_write": 2}})",
         "pricing override for model \"claude-x\": unknown field \"cache_write\" (expected "
         "input, output, cache_write_5m, cache_write_1h, cache_read)"},
        {R"({"ok": {"input": 1}, "claude-y": {"output": -0.5}})",
         "pricing override for model \"claude-y\": field \"output\" must be a non-negative number "
         "(USD per million tokens), got -0.5"},
        {R"({"claude-y": {"cache_read": -3}})",
         "pricing override for model \"claude-y\": field \"cache_read\" must be a non-negative "
         "number (USD per million tokens), got -3"},
        {R"({"claude-y": {"input": "3"}})",
         "pricing override for model \"claude-y\": field \"input\" must be a non-negative number "
         "(USD per million tokens), got \"3\""},
        {R"({"claude-y": {"input": null}})",
         "pricing override for model \"claude-y\": field \"input\" must be a non-negative number "
         "(USD per million tokens), got null"},
        {R"({"claude-y": {"input": true}})",
         "pricing override for model \"claude-y\": field \"input\" must be a non-negative number "
         "(USD per million tokens), got true"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.json);
        std::string error;
        EXPECT_FALSE(base.with_overrides(c.json, &error).has_value());
        const std::string expected = c.error;
        if (expected.ends_with(": ")) {
            // JSON syntax errors: the position is ours, the wording Boost.JSON's.
            EXPECT_TRUE(error.starts_with(expected)) << error;
            EXPECT_GT(error.size(), expected.size()) << error;
        } else {
            EXPECT_EQ(error, expected);
        }
        EXPECT_FALSE(base.with_overrides(c.json, nullptr).has_value());  // null error is fine
    }
}

}  // namespace
}  // namespace qcc::anthropic
