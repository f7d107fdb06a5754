// Result<T>: a value or a ProxyError, for data-path code that must not throw.
#pragma once
#include <utility>
#include <variant>

#include "common/error.hpp"

namespace qcc {

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
    Result(ProxyError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    T* operator->() { return &value(); }
    const ProxyError& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, ProxyError> v_;
};

}  // namespace qcc
