#include "corral/core/prometheus.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace corral {
namespace {

// Label values escape backslash, double quote and newline (the exposition format's rule).
std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size(), 0) {}

void histogram::observe(double value) {
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    if (it != bounds_.end()) {
        ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    }
    ++count_;
    sum_ += value;
}

prometheus_text& prometheus_text::family(std::string_view name,
                                         std::string_view type,
                                         std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    return *this;
}

prometheus_text& prometheus_text::sample(std::string_view name, const metric_labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escape_label(labels[i].second));
        }
        out_ += '}';
    }
    out_ += fmt::format(" {}\n", value);
    return *this;
}

prometheus_text& prometheus_text::histogram_samples(std::string_view name, const histogram& h) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        cumulative += h.counts()[i];
        sample(fmt::format("{}_bucket", name),
               {{"le", fmt::format("{}", h.bounds()[i])}},
               static_cast<double>(cumulative));
    }
    sample(fmt::format("{}_bucket", name), {{"le", "+Inf"}}, static_cast<double>(h.count()));
    sample(fmt::format("{}_sum", name), h.sum());
    sample(fmt::format("{}_count", name), static_cast<double>(h.count()));
    return *this;
}

}  // namespace corral
