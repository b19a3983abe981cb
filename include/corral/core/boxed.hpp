#pragma once

#include <memory>

namespace corral {

/// An optional value kept on the heap and copied with its owner: for the rarely used parts of a
/// struct that is held many times over (a queued job), which then pays one pointer for them while
/// they are absent. Reading an absent value gives a default-made one.
template <class T>
class boxed {
  public:
    boxed() = default;
    boxed(const boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    boxed(boxed&&) noexcept = default;
    boxed& operator=(const boxed& other) {
        if (this != &other) {
            value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        }
        return *this;
    }
    boxed& operator=(boxed&&) noexcept = default;
    ~boxed() = default;

    /// The value, or a default-made one when there is none.
    const T& get() const { return value_ ? *value_ : absent(); }
    /// The value to change, made first when there is none.
    T& edit() {
        if (!value_) {
            value_ = std::make_unique<T>();
        }
        return *value_;
    }
    void reset() { value_.reset(); }
    explicit operator bool() const { return value_ != nullptr; }

  private:
    static const T& absent() {
        static const T none{};
        return none;
    }
    std::unique_ptr<T> value_;
};

}  // namespace corral
