// Cost of a Messages response from its usage and a per-model price table.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/anthropic/usage.hpp"

namespace qcc::anthropic {

/// USD per million tokens.
struct Price {
    double input = 0, output = 0, cache_write_5m = 0, cache_write_1h = 0, cache_read = 0;
    bool operator==(const Price&) const = default;
};

/// Prices by model id or model-id prefix. Immutable once built; cheap to look up.
class PriceTable {
  public:
    /// An empty table (every model unknown).
    PriceTable() = default;
    /// A table of these entries (sorted here; a later duplicate replaces an earlier one).
    explicit PriceTable(std::vector<std::pair<std::string, Price>> entries);

    /// Anthropic's published list prices for current and recent Claude models.
    static const PriceTable& builtin();

    /// Price for a model id: exact match, else the longest entry that is a prefix of the id
    /// (so "claude-sonnet-4-5-20250929" finds "claude-sonnet-4-5"); nullptr when unknown.
    const Price* find(std::string_view model) const;

    /// Copy of this table with overrides from the JSON text of the `pricing.overrides` setting:
    /// {"<model or prefix>": {"input": 3, "output": 15, "cache_write_5m": 3.75,
    /// "cache_write_1h": 6, "cache_read": 0.3}, ...}; missing fields inherit this table's price
    /// for that key (as find() resolves it), or 0. Empty or blank text means no overrides.
    /// nullopt + *error (naming the model and field) on bad JSON, an unknown field, or a value
    /// that is not a non-negative number.
    std::optional<PriceTable> with_overrides(std::string_view json, std::string* error) const;

    /// All entries, sorted by model.
    std::vector<std::pair<std::string, Price>> entries() const { return entries_; }

  private:
    std::vector<std::pair<std::string, Price>> entries_;  // sorted by model, unique
};

/// Cost in USD of one response's usage. Cache writes use the 5m/1h split when known; tokens of
/// cache_creation_input_tokens not covered by the split (all of them when the split is 0/0)
/// count as 5-minute writes, the API's default lifetime.
double cost_usd(const Price& price, const Usage& usage);

}  // namespace qcc::anthropic
