// The fast path of parse_openai_piece (openai_wire.hpp): one pass over a stream chunk's bytes that
// picks out choices[0]'s text / delta content / finish_reason and usage's counts, building no JSON
// tree and allocating nothing but the strings it returns (a JSON library's tree, and even its SAX
// lexer, cost more per SSE event than the runner's own work). It accepts only what it is sure of: a
// well-formed object (RFC 8259, as strict as the full parser) whose fields of interest have the
// expected types, each once, and no "error" key; numbers only as plain integers, keys without
// escapes. Anything else declines, and the caller parses the piece with the full parser, which
// gives the same result or the same description of what is wrong (tests compare the two).
#include <cstdint>
#include <string>

#include "live/load/openai_wire.hpp"

namespace servetwin::live {
namespace {

// Where a value goes.
enum class Slot : unsigned {
  kNone, kTop, kChoices, kChoice0, kUsage, kFinish, kText, kDelta, kContent, kPromptTokens, kCompletionTokens
};
// What an object is.
enum class Role { kTop, kChoice0, kDelta, kUsage, kOther };

constexpr int kMaxDepth = 64;  // deeper pieces decline (no OpenAI chunk nests more than 4)

class PieceScanner {
 public:
  PieceScanner(std::string_view in, bool chat, bool stream, OpenAiPiece& out)
      : p_(in.data()), end_(in.data() + in.size()), chat_(chat), stream_(stream), out_(out) {}

  // False: declined.
  bool run() {
    if (!value(Slot::kTop, 0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) {
    skip_ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  bool value(Slot slot, int depth) {
    skip_ws();
    if (p_ == end_ || depth > kMaxDepth) return false;
    switch (*p_) {
      case '{': return object_value(slot, depth);
      case '[': return (slot == Slot::kChoices || slot == Slot::kNone) && array(slot == Slot::kChoices, depth);
      case '"': return string_value(slot);
      case 'n': return slot != Slot::kTop && slot != Slot::kChoice0 && literal("null");  // null: absent
      case 't': return slot == Slot::kNone && literal("true");
      case 'f': return slot == Slot::kNone && literal("false");
      default: return number(slot);
    }
  }

  bool object_value(Slot slot, int depth) {
    Role role = Role::kOther;
    switch (slot) {
      case Slot::kTop: role = Role::kTop; break;
      case Slot::kChoice0: role = Role::kChoice0; out_.has_choice = true; break;
      case Slot::kDelta: role = Role::kDelta; break;
      case Slot::kUsage: role = Role::kUsage; break;
      case Slot::kNone: break;
      default: return false;
    }
    ++p_;  // '{'
    if (eat('}')) return true;
    unsigned seen = 0;  // bit per Slot of the keys of interest met in this object
    do {
      skip_ws();
      std::string_view key;
      if (!plain_key(key)) return false;
      if (!eat(':')) return false;
      const Slot next = slot_of(role, key);
      if (role == Role::kTop && key == "error") return false;  // the error-body path of the full parser
      if (next != Slot::kNone) {  // a field of interest twice: leave it to the full parser
        const unsigned bit = 1U << static_cast<unsigned>(next);
        if ((seen & bit) != 0) return false;
        seen |= bit;
      }
      if (!value(next, depth + 1)) return false;
    } while (eat(','));
    return eat('}');
  }

  [[nodiscard]] Slot slot_of(Role role, std::string_view key) const {
    switch (role) {
      case Role::kTop:
        if (key == "choices") return Slot::kChoices;
        if (key == "usage") return Slot::kUsage;
        break;
      case Role::kChoice0:
        if (key == "finish_reason") return Slot::kFinish;
        if (!chat_ && key == "text") return Slot::kText;
        if (chat_ && key == (stream_ ? "delta" : "message")) return Slot::kDelta;
        break;
      case Role::kDelta:
        if (key == "content") return Slot::kContent;
        break;
      case Role::kUsage:
        if (key == "prompt_tokens") return Slot::kPromptTokens;
        if (key == "completion_tokens") return Slot::kCompletionTokens;
        break;
      case Role::kOther: break;
    }
    return Slot::kNone;
  }

  bool array(bool choices, int depth) {
    ++p_;  // '['
    if (eat(']')) return true;
    bool first = true;
    do {
      if (!value(choices && first ? Slot::kChoice0 : Slot::kNone, depth + 1)) return false;
      first = false;
    } while (eat(','));
    return eat(']');
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  // Plain integers only (no sign, fraction or exponent; at most 18 digits, so int64 holds them).
  bool number(Slot slot) {
    if (slot != Slot::kNone && slot != Slot::kPromptTokens && slot != Slot::kCompletionTokens) return false;
    const char* start = p_;
    std::int64_t v = 0;
    // Accumulate only while the value fits (18 digits); longer runs are scanned, then declined.
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      if (p_ - start < 18) v = v * 10 + (*p_ - '0');
      ++p_;
    }
    const auto digits = p_ - start;
    if (digits == 0 || digits > 18 || (digits > 1 && *start == '0')) return false;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (slot == Slot::kPromptTokens) out_.prompt_tokens = v;
    if (slot == Slot::kCompletionTokens) out_.completion_tokens = v;
    return true;
  }

  // A key: printable ASCII without escapes (anything else declines).
  bool plain_key(std::string_view& key) {
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    while (p_ < end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    key = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  bool string_value(Slot slot) {
    std::string* dst = nullptr;
    switch (slot) {
      case Slot::kFinish: dst = &out_.finish_reason; break;
      case Slot::kText:
      case Slot::kContent: dst = &out_.text; break;
      case Slot::kNone: break;
      default: return false;
    }
    ++p_;  // '"'
    if (dst != nullptr) dst->clear();
    while (p_ < end_) {
      const char* run = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20 &&
             static_cast<unsigned char>(*p_) < 0x80) {
        ++p_;
      }
      if (dst != nullptr) dst->append(run, static_cast<std::size_t>(p_ - run));
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;  // a raw control character: not JSON
      if (!(c == '\\' ? escape(dst) : utf8(dst))) return false;
    }
    return false;
  }

  // One escape after the backslash; \u with a surrogate pair, as JSON parsers decode it.
  bool escape(std::string* dst) {
    ++p_;  // '\'
    if (p_ == end_) return false;
    char decoded = 0;
    switch (*p_) {
      case '"': decoded = '"'; break;
      case '\\': decoded = '\\'; break;
      case '/': decoded = '/'; break;
      case 'b': decoded = '\b'; break;
      case 'f': decoded = '\f'; break;
      case 'n': decoded = '\n'; break;
      case 'r': decoded = '\r'; break;
      case 't': decoded = '\t'; break;
      case 'u': return unicode_escape(dst);
      default: return false;
    }
    ++p_;
    if (dst != nullptr) dst->push_back(decoded);
    return true;
  }

  bool hex4(std::uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4U;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool unicode_escape(std::string* dst) {
    ++p_;  // 'u'
    std::uint32_t cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
    if (cp >= 0xD800 && cp <= 0xDBFF) {              // a high surrogate needs its low half
      std::uint32_t low = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10U) + (low - 0xDC00);
    }
    if (dst == nullptr) return true;
    auto put = [dst](std::uint32_t b) { dst->push_back(static_cast<char>(b)); };
    if (cp < 0x80) {
      put(cp);
    } else if (cp < 0x800) {
      put(0xC0U | (cp >> 6U));
      put(0x80U | (cp & 0x3FU));
    } else if (cp < 0x10000) {
      put(0xE0U | (cp >> 12U));
      put(0x80U | ((cp >> 6U) & 0x3FU));
      put(0x80U | (cp & 0x3FU));
    } else {
      put(0xF0U | (cp >> 18U));
      put(0x80U | ((cp >> 12U) & 0x3FU));
      put(0x80U | ((cp >> 6U) & 0x3FU));
      put(0x80U | (cp & 0x3FU));
    }
    return true;
  }

  // One UTF-8 sequence of a non-ASCII character, well-formed per RFC 3629 (no overlongs, no
  // surrogates, at most U+10FFFF), copied as is.
  bool utf8(std::string* dst) {
    const auto b0 = static_cast<unsigned char>(*p_);
    int more = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      more = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      more = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      more = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (end_ - p_ <= more) return false;
    for (int i = 1; i <= more; ++i) {
      const auto b = static_cast<unsigned char>(p_[i]);
      if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    if (dst != nullptr) dst->append(p_, static_cast<std::size_t>(more) + 1);
    p_ += more + 1;
    return true;
  }

  const char* p_;
  const char* end_;
  bool chat_, stream_;
  OpenAiPiece& out_;
};

}  // namespace

bool parse_openai_piece_fast(std::string_view json, bool chat, bool stream, OpenAiPiece& out) {
  out = OpenAiPiece{};
  const bool ok = PieceScanner(json, chat, stream, out).run();
  if (!ok) out = OpenAiPiece{};
  return ok;
}

}  // namespace servetwin::live
