#include "protocol/anthropic/json_reader.hpp"

#include <cmath>

namespace qcc::anthropic::detail {

namespace {

// A parser sized for one huge body keeps that memory for the thread's lifetime; above this it is
// dropped after use (typical requests are 50-100 KB, SSE events and error bodies far smaller).
constexpr std::size_t kRetainBytes = std::size_t{1} << 20;

}  // namespace

struct JsonScratch::State {
    simdjson::ondemand::parser parser;
    std::string buffer;
    bool busy = false;
};

JsonScratch::JsonScratch() {
    thread_local State shared;
    if (!shared.busy) {
        state_ = &shared;
    } else {
        own_ = std::make_unique<State>();
        state_ = own_.get();
    }
    state_->busy = true;
}

JsonScratch::~JsonScratch() {
    state_->busy = false;
    if (state_->parser.capacity() > kRetainBytes) state_->parser = simdjson::ondemand::parser{};
    if (state_->buffer.capacity() > kRetainBytes) std::string().swap(state_->buffer);
}

simdjson::error_code JsonScratch::iterate(std::string_view json, std::size_t capacity,
                                          simdjson::ondemand::document& doc) {
    const std::size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (capacity >= needed) {
        base_ = json.data();
        return state_->parser.iterate(json.data(), json.size(), capacity).get(doc);
    }
    std::string& buffer = state_->buffer;
    buffer.assign(json);
    buffer.resize(needed);
    base_ = buffer.data();
    return state_->parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc);
}

simdjson::error_code read_count(simdjson::ondemand::value& v, std::optional<std::int64_t>& out) {
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::number) return simdjson::SUCCESS;
    simdjson::ondemand::number_type number_type;
    if (auto e = v.get_number_type().get(number_type)) return e;
    if (number_type == simdjson::ondemand::number_type::signed_integer) {
        std::int64_t n = 0;
        if (auto e = v.get_int64().get(n)) return e;
        out = n < 0 ? 0 : n;
        return simdjson::SUCCESS;
    }
    // Unsigned above INT64_MAX or floating point: go through double and clamp.
    double d = 0;
    if (auto e = v.get_double().get(d)) return e;
    constexpr double kMax = 9.0e18;
    if (!std::isfinite(d) || d <= 0) {
        out = 0;
    } else {
        out = static_cast<std::int64_t>(d < kMax ? d : kMax);
    }
    return simdjson::SUCCESS;
}

namespace {

// usage.cache_creation: {"ephemeral_5m_input_tokens":N,"ephemeral_1h_input_tokens":M}
simdjson::error_code merge_cache_creation(simdjson::ondemand::value& v, Usage& usage) {
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
    simdjson::ondemand::object obj;
    if (auto e = v.get_object().get(obj)) return e;
    return for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& field) {
        std::int64_t* target = nullptr;
        if (key == "ephemeral_5m_input_tokens") {
            target = &usage.cache_creation_5m;
        } else if (key == "ephemeral_1h_input_tokens") {
            target = &usage.cache_creation_1h;
        } else {
            return simdjson::SUCCESS;
        }
        std::optional<std::int64_t> n;
        if (auto e = read_count(field, n)) return e;
        if (n) *target = *n;
        return simdjson::SUCCESS;
    });
}

}  // namespace

simdjson::error_code merge_usage(simdjson::ondemand::value& v, Usage& usage) {
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::object) return simdjson::SUCCESS;
    simdjson::ondemand::object obj;
    if (auto e = v.get_object().get(obj)) return e;
    return for_each_field(obj, [&](std::string_view key, simdjson::ondemand::value& field) {
        std::int64_t* target = nullptr;
        if (key == "input_tokens") {
            target = &usage.input_tokens;
        } else if (key == "output_tokens") {
            target = &usage.output_tokens;
        } else if (key == "cache_creation_input_tokens") {
            target = &usage.cache_creation_input_tokens;
        } else if (key == "cache_read_input_tokens") {
            target = &usage.cache_read_input_tokens;
        } else if (key == "cache_creation") {
            return merge_cache_creation(field, usage);
        } else {
            return simdjson::SUCCESS;
        }
        std::optional<std::int64_t> n;
        if (auto e = read_count(field, n)) return e;
        if (n) *target = *n;
        return simdjson::SUCCESS;
    });
}

simdjson::error_code read_string(simdjson::ondemand::value& v, std::string& out) {
    simdjson::ondemand::json_type type;
    if (auto e = v.type().get(type)) return e;
    if (type != simdjson::ondemand::json_type::string) return simdjson::SUCCESS;
    std::string_view s;
    if (auto e = v.get_string().get(s)) return e;
    out.assign(s);
    return simdjson::SUCCESS;
}

}  // namespace qcc::anthropic::detail
