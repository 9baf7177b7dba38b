#pragma once
// One row of the per-request CSV, written identically by the simulator and the live runner
// (docs/output-schema.md). Times are integer nanoseconds from the start of the run; -1 = never.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/time.hpp"

namespace servetwin {

enum class RequestStatus { kOk, kRejected, kTimeout, kError, kCancelled, kUnfinished };

const char* to_string(RequestStatus s);
RequestStatus request_status_from_string(const std::string& s);  // throws std::invalid_argument

struct RequestRecord {
  int scenario = 0;                 // index of the scenario (configuration) in the run
  std::uint64_t request_id = 0;
  int stage = 0;                    // index of the load stage (concurrency or rate level)
  std::int64_t user_id = -1;        // closed-loop user / stream id; -1 for open loop
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;   // tokens actually generated
  std::int64_t cached_tokens = 0;   // prompt tokens served from a prefix cache (sim only)
  TimeNs arrival_ns = -1;           // request sent (live) / arrived at the engine (sim)
  TimeNs ack_ns = -1;               // first stream message (live) / first scheduled (sim)
  TimeNs first_token_ns = -1;       // first generated token received / emitted
  TimeNs finish_ns = -1;            // last message / last token
  RequestStatus status = RequestStatus::kUnfinished;
  std::string stop_reason;          // e.g. MAX_TOKENS, EOS_TOKEN, TOKEN_LIMIT
  std::string error;                // gRPC status name + message, or the simulator's reason
  std::int64_t preemptions = 0;     // sim: times the request was preempted (recompute)
};

// CSV header and one line per record; fixed column order, '.' decimals, no locale.
const char* request_csv_header();
std::string request_csv_line(const RequestRecord& r);
// The same line (no newline) appended to `out`.
void append_request_csv_line(std::string& out, const RequestRecord& r);
// Splits one CSV record into fields (RFC 4180: a quoted field may hold commas and doubled quotes).
// Records must not span lines; the request CSV's writer never breaks one (error texts have no newlines).
std::vector<std::string> split_csv_record(const std::string& line);

}  // namespace servetwin
