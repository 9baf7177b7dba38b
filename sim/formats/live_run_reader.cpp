#include "sim/formats/live_run_reader.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"
#include "sim/metrics/request_record.hpp"
#include "sim/metrics/summary.hpp"

namespace servetwin {
namespace {

[[noreturn]] void throw_cannot_open(const std::filesystem::path& p) {
  throw ConfigError(fmt::format("{}: cannot open (a live run directory holds summary.json and requests.csv, "
                                "written by `servetwin load --out DIR`)",
                                p.string()));
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw_cannot_open(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::int64_t to_int(const std::string& s, const std::string& where, const char* col) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("{}: column '{}': '{}' is not an integer", where, col, s));
  }
}

// Reads a field of the summary, naming file and JSON path when it is missing or has another type.
const nlohmann::json& field(const nlohmann::json& obj, const char* key, const std::string& file,
                            const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) {
    throw ConfigError(fmt::format("{}: field '{}{}' missing", file, path, key));
  }
  return obj[key];
}

TimeNs ns_field(const nlohmann::json& obj, const char* key, const std::string& file, const std::string& path) {
  const auto& v = field(obj, key, file, path);
  if (!v.is_number_integer()) throw ConfigError(fmt::format("{}: field '{}{}' is not an integer", file, path, key));
  return v.get<TimeNs>();
}

}  // namespace

std::vector<RequestRecord> read_request_csv(const std::filesystem::path& path) {
  return parse_request_csv(slurp(path), path.string());
}

std::vector<RequestRecord> parse_request_csv(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(fmt::format("{}: empty file (expected the header row)", file));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != request_csv_header()) {
    throw ConfigError(fmt::format("{}:1: header is not the per-request CSV header of docs/output-schema.md ({})", file,
                                  request_csv_header()));
  }
  const std::size_t ncols = split_csv_record(line).size();
  std::vector<RequestRecord> out;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto c = split_csv_record(line);
    const std::string where = fmt::format("{}:{}", file, lineno);
    if (c.size() != ncols) throw ConfigError(fmt::format("{}: {} fields, header has {}", where, c.size(), ncols));
    RequestRecord r;
    r.scenario = static_cast<int>(to_int(c[0], where, "scenario"));
    r.request_id = static_cast<std::uint64_t>(to_int(c[1], where, "request_id"));
    r.stage = static_cast<int>(to_int(c[2], where, "stage"));
    r.user_id = to_int(c[3], where, "user_id");
    r.input_tokens = to_int(c[4], where, "input_tokens");
    r.output_tokens = to_int(c[5], where, "output_tokens");
    r.cached_tokens = to_int(c[6], where, "cached_tokens");
    r.arrival_ns = to_int(c[7], where, "arrival_ns");
    r.ack_ns = to_int(c[8], where, "ack_ns");
    r.first_token_ns = to_int(c[9], where, "first_token_ns");
    r.finish_ns = to_int(c[10], where, "finish_ns");
    try {
      r.status = request_status_from_string(c[11]);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(fmt::format("{}: column 'status': {}", where, e.what()));
    }
    r.stop_reason = c[12];
    r.preemptions = to_int(c[13], where, "preemptions");
    r.error = c[14];
    out.push_back(std::move(r));
  }
  return out;
}

LiveRun read_live_run(const std::filesystem::path& dir) {
  if (const PathCheck c = check_path(dir); !c.directory) {
    throw ConfigError(fmt::format("{}: not a directory{} (expected the --out DIR of `servetwin load`)", dir.string(),
                                  c.reason_suffix()));
  }
  LiveRunTexts texts;
  texts.summary_json = slurp(dir / "summary.json");
  if (check_path(dir / "requests.csv").exists) texts.requests_csv = slurp(dir / "requests.csv");
  // Warmup requests loaded the server before each window; older runs may lack the file.
  if (check_path(dir / "warmup_requests.csv").exists) texts.warmup_csv = slurp(dir / "warmup_requests.csv");
  if (check_path(dir / "schedule.csv").exists) texts.schedule_csv = slurp(dir / "schedule.csv");
  return parse_live_run(dir, texts);
}

namespace {
LiveRun parse_live_run_unchecked(const std::filesystem::path& dir, const LiveRunTexts& texts);
}  // namespace

LiveRun parse_live_run(const std::filesystem::path& dir, const LiveRunTexts& texts) {
  // A field of the wrong JSON type (e.g. "partial": [] or a numeric "label") throws nlohmann's
  // type_error from value()/get(): bad input, named after the summary like every other field error.
  try {
    return parse_live_run_unchecked(dir, texts);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: a field has the wrong type: {}", (dir / "summary.json").string(), e.what()));
  }
}

namespace {
LiveRun parse_live_run_unchecked(const std::filesystem::path& dir, const LiveRunTexts& texts) {
  LiveRun run;
  run.dir = dir;
  const std::string sfile = (dir / "summary.json").string();
  nlohmann::json s;
  try {
    s = nlohmann::json::parse(texts.summary_json);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw ConfigError(fmt::format("{}: not valid JSON: {}", sfile, e.what()));
  }
  const auto& version = field(s, "schema_version", sfile, "");
  // A reader refuses a major version it does not know (docs/output-schema.md).
  const std::string want_major = std::string(kSummarySchemaVersion).substr(0, std::string(kSummarySchemaVersion).find('.'));
  if (!version.is_string() || version.get<std::string>().substr(0, version.get<std::string>().find('.')) != want_major) {
    throw ConfigError(fmt::format("{}: field 'schema_version' is {}; this build reads major version {} ({})", sfile,
                                  version.dump(), want_major, kSummarySchemaVersion));
  }
  const auto& producer = field(s, "producer", sfile, "");
  if (producer != "live") {
    throw ConfigError(fmt::format("{}: field 'producer' is {}, expected \"live\" (a summary written by `servetwin load`)",
                                  sfile, producer.dump()));
  }
  run.partial = s.value("partial", false);
  const auto& scenarios = field(s, "scenarios", sfile, "");
  if (!scenarios.is_array() || scenarios.size() != 1) {
    throw ConfigError(fmt::format("{}: field 'scenarios' must hold exactly one scenario (a live run)", sfile));
  }
  const auto& sc = scenarios[0];
  run.resolved_config = field(sc, "resolved_config", sfile, "scenarios[0].");
  const auto& stages = field(sc, "stages", sfile, "scenarios[0].");
  if (!stages.is_array()) throw ConfigError(fmt::format("{}: field 'scenarios[0].stages' is not an array", sfile));
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::string path = fmt::format("scenarios[0].stages[{}].", i);
    const auto& st = stages[i];
    LiveStage ls;
    ls.index = static_cast<int>(i);
    ls.load = field(st, "load", sfile, path);
    ls.closed_loop = ls.load.contains("concurrency");
    ls.label = st.value("label", "stage " + std::to_string(i));
    const auto& w = field(st, "window", sfile, path);
    ls.window_start_ns = ns_field(w, "start_ns", sfile, path + "window.");
    ls.window_end_ns = ns_field(w, "end_ns", sfile, path + "window.");
    run.stages.push_back(std::move(ls));
  }
  if (!texts.requests_csv) throw_cannot_open(dir / "requests.csv");
  run.requests = parse_request_csv(*texts.requests_csv, (dir / "requests.csv").string());
  if (texts.warmup_csv) run.warmup = parse_request_csv(*texts.warmup_csv, (dir / "warmup_requests.csv").string());
  if (texts.schedule_csv) run.prompt_of = parse_schedule_prompts(*texts.schedule_csv, (dir / "schedule.csv").string());
  return run;
}

}  // namespace

}  // namespace servetwin
