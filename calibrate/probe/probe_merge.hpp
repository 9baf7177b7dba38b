#pragma once
// Several probes of one endpoint as one (`calibrate fit --in before.json --in after.json`): a probe
// run before a measured sweep and another after it bracket the sweep in time, so that a server whose
// speed wanders over minutes (the 2-core VM's vLLM: docs/real-engines.md, "Bracketed probes") is fitted
// at the sweep's mean speed, not at the speed of the minutes before it. The fit still reads probe
// requests only.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace servetwin::calibrate {

// (file name, parsed servetwin.probe.v1) in the order given. Returns one probe: the first's
// metadata; "phases" concatenated, each entry tagged "probe": its file's index; "complete" only if
// all are; "elapsed_s" summed; "merged_from": the file names. One probe is returned unchanged.
// Throws ConfigError naming the file and field where a probe is not servetwin.probe.v1 or names
// another endpoint than the first (protocol, model_id, server_engine name/version,
// server_cache_config): those would fit two servers as one.
nlohmann::json merge_probes(const std::vector<std::pair<std::string, nlohmann::json>>& probes);

}  // namespace servetwin::calibrate
