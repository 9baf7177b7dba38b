#include "sim/metrics/request_record.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace servetwin {

const char* to_string(RequestStatus s) {
  switch (s) {
    case RequestStatus::kOk: return "ok";
    case RequestStatus::kRejected: return "rejected";
    case RequestStatus::kTimeout: return "timeout";
    case RequestStatus::kError: return "error";
    case RequestStatus::kCancelled: return "cancelled";
    case RequestStatus::kUnfinished: return "unfinished";
  }
  return "unknown";
}

RequestStatus request_status_from_string(const std::string& s) {
  for (auto st : {RequestStatus::kOk, RequestStatus::kRejected, RequestStatus::kTimeout, RequestStatus::kError,
                  RequestStatus::kCancelled, RequestStatus::kUnfinished}) {
    if (s == to_string(st)) return st;
  }
  throw std::invalid_argument("unknown request status '" + s +
                              "' (allowed: ok, rejected, timeout, error, cancelled, unfinished)");
}

const char* request_csv_header() {
  return "scenario,request_id,stage,user_id,input_tokens,output_tokens,cached_tokens,arrival_ns,ack_ns,first_token_ns,"
         "finish_ns,status,stop_reason,preemptions,error";
}

namespace {
// Quotes a text cell only when needed (RFC 4180).
std::string csv_text(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string request_csv_line(const RequestRecord& r) {
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", r.scenario, r.request_id, r.stage, r.user_id, r.input_tokens,
                     r.output_tokens, r.cached_tokens, r.arrival_ns, r.ack_ns, r.first_token_ns, r.finish_ns,
                     to_string(r.status), csv_text(r.stop_reason), r.preemptions, csv_text(r.error));
}

}  // namespace servetwin
