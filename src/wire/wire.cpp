#include <cstring>

#include "wire/reader.h"
#include "wire/writer.h"

namespace hashi::wire {

bool Reader::u8(uint8_t& out) {
  if (data_.empty()) return false;
  out = data_[0];
  data_ = data_.subspan(1);
  return true;
}

bool Reader::boolean(bool& out) {
  uint8_t v;
  if (!u8(v)) return false;
  out = v != 0;
  return true;
}

bool Reader::u32(uint32_t& out) {
  if (data_.size() < 4) return false;
  out = load_u32(data_.data());
  data_ = data_.subspan(4);
  return true;
}

bool Reader::u64(uint64_t& out) {
  if (data_.size() < 8) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | data_[i];
  out = v;
  data_ = data_.subspan(8);
  return true;
}

bool Reader::bytes(size_t n, ByteView& out) {
  if (data_.size() < n) return false;
  out = data_.first(n);
  data_ = data_.subspan(n);
  return true;
}

bool Reader::string(ByteView& out) {
  Reader save = *this;
  uint32_t len;
  if (!u32(len) || !bytes(len, out)) {
    *this = save;
    return false;
  }
  return true;
}

bool Reader::string(std::string_view& out) {
  ByteView b;
  if (!string(b)) return false;
  out = as_string(b);
  return true;
}

bool Reader::sub(Reader& out) {
  ByteView b;
  if (!string(b)) return false;
  out = Reader(b);
  return true;
}

bool Reader::mpint_positive(ByteView& out) {
  Reader save = *this;
  ByteView b;
  if (!string(b)) return false;
  if (!b.empty()) {
    if (b[0] & 0x80) {  // negative
      *this = save;
      return false;
    }
    if (b[0] == 0) {
      // A leading zero is only allowed to clear the sign bit of the next byte.
      if (b.size() == 1 || !(b[1] & 0x80)) {
        *this = save;
        return false;
      }
      b = b.subspan(1);
    }
  }
  out = b;
  return true;
}

bool Reader::name_list(std::vector<std::string>& out) {
  Reader save = *this;
  std::string_view s;
  if (!string(s) || s.size() > kMaxNameListLen) {
    *this = save;
    return false;
  }
  std::vector<std::string> names;
  if (!s.empty()) {
    size_t start = 0;
    while (true) {
      size_t comma = s.find(',', start);
      std::string_view name = s.substr(start, comma == std::string_view::npos ? s.npos : comma - start);
      bool ok = !name.empty() && names.size() < kMaxNames;
      for (char c : name) ok = ok && c > 0x20 && c < 0x7f;
      if (!ok) {
        *this = save;
        return false;
      }
      names.emplace_back(name);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  out = std::move(names);
  return true;
}

Writer& Writer::u8(uint8_t v) {
  out_.push_back(v);
  return *this;
}

Writer& Writer::u32(uint32_t v) {
  uint8_t b[4];
  store_u32(b, v);
  out_.insert(out_.end(), b, b + 4);
  return *this;
}

Writer& Writer::u64(uint64_t v) {
  u32(uint32_t(v >> 32));
  return u32(uint32_t(v));
}

Writer& Writer::raw(ByteView v) {
  out_.insert(out_.end(), v.begin(), v.end());
  return *this;
}

Writer& Writer::string(ByteView v) {
  u32(uint32_t(v.size()));
  return raw(v);
}

Writer& Writer::mpint(ByteView m) {
  while (!m.empty() && m[0] == 0) m = m.subspan(1);
  bool pad = !m.empty() && (m[0] & 0x80);
  u32(uint32_t(m.size() + (pad ? 1 : 0)));
  if (pad) u8(0);
  return raw(m);
}

Writer& Writer::name_list(const std::vector<std::string>& names) {
  return string(join_names(names));
}

size_t Writer::begin_string() {
  size_t pos = out_.size();
  u32(0);
  return pos;
}

void Writer::end_string(size_t pos) { store_u32(out_.data() + pos, uint32_t(out_.size() - pos - 4)); }

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += ',';
    s += names[i];
  }
  return s;
}

std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) {
      out.emplace_back(list.substr(start));
      break;
    }
    out.emplace_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace hashi::wire
