// The committed half of a request to an OpenAI-compatible endpoint that streams: the upstream's
// Chat Completions SSE is translated to Anthropic Messages SSE as it arrives (protocol/openai's
// StreamTranslator) and each translated piece is written at once, chunk-framed, so translation
// adds no delay. An upstream error object or a cut after the commit point ends the stream with an
// SSE `error` event and a clean chunked end, exactly as for Anthropic endpoints.
#pragma once
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "protocol/openai/translate_stream.hpp"
#include "proxy/relay.hpp"

namespace qcc::proxy {

/// One committed, translated stream.
struct TranslatedStreamJob {
    const upstream::Endpoint& endpoint;
    upstream::Lease& lease;
    ResponseParser& parser;
    openai::StreamTranslator& translator;
    std::string_view pending;  // Anthropic SSE already translated before the commit point
    int attempts = 0;          // for x-qcc-attempts
};

/// Relays `job` to the client through `out`: a 200 text/event-stream head, the pending events,
/// then every translated piece as the upstream sends it. Fills ctx.status, endpoint, ttfb_ms and
/// usage (from the translator). `completed` is set when the upstream ended the message properly
/// (finish_reason or [DONE]). On an upstream failure the response is left open with
/// RelayResult::upstream_failed (and error_type / failure to report): the caller records it and
/// calls end_cut_response.
boost::asio::awaitable<RelayResult> relay_translated_stream(
    const TranslatedStreamJob& job, ClientWriter& out, RequestContext& ctx, RelayBuffers& buffers,
    upstream::Pool& pool, const ClientWatch& watch, bool keep_alive, bool* completed);

}  // namespace qcc::proxy
