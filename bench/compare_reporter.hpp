#pragma once
// A Google Benchmark console reporter that also prints corral beside its baseline, as a ratio, from
// the same run. With --benchmark_repetitions it compares medians (the runs are interleaved when
// --benchmark_enable_random_interleaving is on, so both sides see the same machine noise).

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace corral::bench {

class compare_reporter : public benchmark::ConsoleReporter {
  public:
    struct comparison {
        std::string title;
        std::string baseline;
        std::string ours;
        std::string counter;  ///< e.g. "items_per_second"
        bool higher_is_better = true;
        double target = 0;  ///< the issue's target ratio, printed beside the result
    };

    explicit compare_reporter(std::vector<comparison> comparisons) : comparisons_(std::move(comparisons)) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            // The median over repetitions when there are several, else the single run.
            if (!run.aggregate_name.empty() && run.aggregate_name != "median") {
                continue;
            }
            std::string name = run.run_name.str();
            for (const auto& [counter, value] : run.counters) {
                values_[name][counter] = value;
            }
        }
    }

    void Finalize() override {
        ConsoleReporter::Finalize();
        std::printf(
            "\n%-44s %14s %14s %8s %8s\n", "comparison (same run)", "baseline", "corral", "ratio", "target");
        for (const auto& c : comparisons_) {
            double base = values_[c.baseline][c.counter];
            double ours = values_[c.ours][c.counter];
            double ratio = base > 0 && ours > 0 ? (c.higher_is_better ? ours / base : base / ours) : 0;
            std::string target = c.target > 0 ? ">=" + std::to_string(c.target).substr(0, 4) : "-";
            std::printf("%-44s %14.1f %14.1f %8.2f %8s  (%s%s)\n",
                        c.title.c_str(),
                        base,
                        ours,
                        ratio,
                        target.c_str(),
                        c.counter.c_str(),
                        c.higher_is_better ? "" : ", ratio = baseline/corral");
        }
    }

  private:
    std::vector<comparison> comparisons_;
    std::map<std::string, std::map<std::string, double>> values_;
};

/// main() for a benchmark binary with comparisons.
inline int run_benchmarks(int argc, char** argv, std::vector<compare_reporter::comparison> comparisons) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    compare_reporter reporter(std::move(comparisons));
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}

}  // namespace corral::bench
