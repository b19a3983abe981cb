#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral {

/// A cumulative histogram with fixed upper bounds, as Prometheus expects.
class histogram {
  public:
    explicit histogram(std::vector<double> upper_bounds);
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    /// counts()[i] is how many observations were <= bounds()[i] (not cumulative; the writer sums).
    const std::vector<std::uint64_t>& counts() const { return counts_; }
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

  private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// Writes the Prometheus text exposition format (version 0.0.4).
class prometheus_text {
  public:
    /// Starts a metric family: `# HELP` and `# TYPE` lines.
    prometheus_text& family(std::string_view name, std::string_view type, std::string_view help);
    prometheus_text& sample(std::string_view name, const metric_labels& labels, double value);
    prometheus_text& sample(std::string_view name, double value) { return sample(name, {}, value); }
    prometheus_text& histogram_samples(std::string_view name, const histogram& h);
    const std::string& str() const { return out_; }

  private:
    std::string out_;
};

}  // namespace corral
