// The fast path of parse_openai_piece (openai_wire.hpp): one SAX pass over a stream chunk that
// picks out choices[0]'s text / delta content / finish_reason and usage's counts, building no JSON
// tree (the tree's allocations were most of the runner's parsing cost per SSE event). It accepts
// only what it is sure of: a well-formed object whose fields of interest have the expected types,
// each once, and no "error" key. Anything else declines, and the caller parses the piece with the
// full parser, which gives the same result or the same description of what is wrong.
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "live/load/openai_wire.hpp"

namespace servetwin::live {
namespace {

class PieceSax {
 public:
  using json = nlohmann::json;
  PieceSax(bool chat, bool stream, OpenAiPiece& out) : chat_(chat), stream_(stream), out_(out) {}

  bool null() { return scalar(Kind::kNull); }
  bool boolean(bool /*v*/) { return scalar(Kind::kOther); }
  bool number_integer(json::number_integer_t v) { return integer(v); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (v > static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) return decline();
    return integer(static_cast<std::int64_t>(v));
  }
  bool number_float(json::number_float_t /*v*/, const json::string_t& /*s*/) { return scalar(Kind::kOther); }
  bool string(json::string_t& s) {
    const Slot slot = take_slot();
    switch (slot) {
      case Slot::kFinish: out_.finish_reason = std::move(s); return true;
      case Slot::kText:
      case Slot::kContent: out_.text = std::move(s); return true;
      case Slot::kNone: return true;
      default: return decline();
    }
  }
  bool binary(json::binary_t& /*b*/) { return decline(); }
  bool start_object(std::size_t /*n*/) {
    const Slot slot = take_slot();
    Role role = Role::kOther;
    switch (slot) {
      case Slot::kTop: role = Role::kTop; break;
      case Slot::kChoice0: role = Role::kChoice0; out_.has_choice = true; break;
      case Slot::kDelta: role = Role::kDelta; break;
      case Slot::kUsage: role = Role::kUsage; break;
      case Slot::kNone: break;
      default: return decline();
    }
    stack_.push_back({role, false, 0, 0});
    return true;
  }
  bool start_array(std::size_t /*n*/) {
    const Slot slot = take_slot();
    if (slot != Slot::kNone && slot != Slot::kChoices) return decline();
    stack_.push_back({slot == Slot::kChoices ? Role::kChoices : Role::kOther, true, 0, 0});
    return true;
  }
  bool key(json::string_t& k) {
    Frame& f = stack_.back();
    next_ = Slot::kNone;
    if (f.role == Role::kTop) {
      if (k == "error") return decline();  // the error-body path of the full parser
      if (k == "choices") next_ = Slot::kChoices;
      else if (k == "usage") next_ = Slot::kUsage;
    } else if (f.role == Role::kChoice0) {
      if (k == "finish_reason") next_ = Slot::kFinish;
      else if (!chat_ && k == "text") next_ = Slot::kText;
      else if (chat_ && k == (stream_ ? "delta" : "message")) next_ = Slot::kDelta;
    } else if (f.role == Role::kDelta) {
      if (k == "content") next_ = Slot::kContent;
    } else if (f.role == Role::kUsage) {
      if (k == "prompt_tokens") next_ = Slot::kPromptTokens;
      else if (k == "completion_tokens") next_ = Slot::kCompletionTokens;
    }
    if (next_ != Slot::kNone) {  // a field of interest twice: leave it to the full parser
      const auto bit = 1U << static_cast<unsigned>(next_);
      if ((f.seen & bit) != 0) return decline();
      f.seen |= bit;
    }
    return true;
  }
  bool end_object() { return pop(); }
  bool end_array() { return pop(); }
  bool parse_error(std::size_t /*pos*/, const std::string& /*token*/, const nlohmann::detail::exception& /*e*/) {
    return decline();
  }

  [[nodiscard]] bool declined() const { return declined_; }

 private:
  // Where the next value goes.
  enum class Slot : unsigned {
    kNone, kTop, kChoices, kChoice0, kUsage, kFinish, kText, kDelta, kContent, kPromptTokens, kCompletionTokens
  };
  enum class Role { kTop, kChoices, kChoice0, kDelta, kUsage, kOther };
  enum class Kind { kNull, kOther };
  struct Frame {
    Role role;
    bool array;
    std::size_t elements;
    unsigned seen;  // bit per Slot of the keys met in this object
  };

  Slot take_slot() {
    if (stack_.empty()) return Slot::kTop;
    Frame& f = stack_.back();
    if (f.array) return f.role == Role::kChoices && f.elements++ == 0 ? Slot::kChoice0 : Slot::kNone;
    const Slot s = next_;
    next_ = Slot::kNone;
    return s;
  }
  bool scalar(Kind kind) {
    const Slot slot = take_slot();
    if (slot == Slot::kNone) return true;
    // null is what the full parser reads as absent, except where an object or a document is needed.
    if (kind == Kind::kNull) return slot != Slot::kTop && slot != Slot::kChoice0 ? true : decline();
    return decline();
  }
  bool integer(std::int64_t v) {
    const Slot slot = take_slot();
    if (slot == Slot::kPromptTokens) out_.prompt_tokens = v;
    else if (slot == Slot::kCompletionTokens) out_.completion_tokens = v;
    else if (slot != Slot::kNone) return decline();
    return true;
  }
  bool pop() {
    stack_.pop_back();
    return true;
  }
  bool decline() {
    declined_ = true;
    return false;
  }

  bool chat_, stream_;
  OpenAiPiece& out_;
  std::vector<Frame> stack_;
  Slot next_ = Slot::kNone;
  bool declined_ = false;
};

}  // namespace

bool parse_openai_piece_fast(std::string_view json, bool chat, bool stream, OpenAiPiece& out) {
  out = OpenAiPiece{};
  PieceSax sax(chat, stream, out);
  const bool ok = nlohmann::json::sax_parse(json, &sax) && !sax.declined();
  if (!ok) out = OpenAiPiece{};
  return ok;
}

}  // namespace servetwin::live
