#include "atelier/trainer/torch_file.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include <cstring>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace atelier::trainer {
namespace {

// The zip archive read from memory.
class StringReadAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit StringReadAdapter(std::string_view bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  std::string_view bytes_;
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Python globals travel on the stack as strings with this prefix (so that they
// can sit inside tuples, as storage types do in persistent ids).
constexpr std::string_view kGlobalPrefix{"\0global:", 8};

c10::IValue Global(const std::string& qualified) { return c10::IValue(std::string(kGlobalPrefix) + qualified); }

std::optional<std::string> GlobalName(const c10::IValue& v) {
  if (!v.isString() || v.toStringRef().compare(0, kGlobalPrefix.size(), kGlobalPrefix) != 0) return std::nullopt;
  return v.toStringRef().substr(kGlobalPrefix.size());
}

std::optional<c10::ScalarType> StorageDtype(const std::string& name) {
  static const std::map<std::string, c10::ScalarType> kTypes = {
      {"torch.FloatStorage", c10::kFloat},   {"torch.DoubleStorage", c10::kDouble},
      {"torch.HalfStorage", c10::kHalf},     {"torch.BFloat16Storage", c10::kBFloat16},
      {"torch.LongStorage", c10::kLong},     {"torch.IntStorage", c10::kInt},
      {"torch.ShortStorage", c10::kShort},   {"torch.CharStorage", c10::kChar},
      {"torch.ByteStorage", c10::kByte},     {"torch.BoolStorage", c10::kBool},
      {"torch.UntypedStorage", c10::kByte}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

std::vector<int64_t> IntTuple(const c10::IValue& v) {
  std::vector<int64_t> out;
  for (const auto& e : v.toTupleRef().elements()) out.push_back(e.toInt());
  return out;
}

// A pickle virtual machine for the subset of opcodes and globals that
// torch.save and torch::pickle_save produce.
class Unpickler {
 public:
  Unpickler(std::string_view program, caffe2::serialize::PyTorchStreamReader& reader)
      : p_(program), reader_(reader) {}

  c10::IValue Run() {
    while (true) {
      const uint8_t op = Byte();
      switch (op) {
        case 0x80: Byte(); break;                  // PROTO
        case 0x95: Take(8); break;                 // FRAME
        case '.': return Pop();                    // STOP
        case '(': marks_.push_back(stack_.size()); break;
        case '}': stack_.push_back(NewDict()); break;
        case ']': stack_.push_back(c10::impl::GenericList(c10::AnyType::get())); break;
        case ')': stack_.push_back(c10::ivalue::Tuple::create(std::vector<c10::IValue>{})); break;
        case 't': stack_.push_back(c10::ivalue::Tuple::create(PopMark())); break;
        case 0x85: case 0x86: case 0x87: {         // TUPLE1..3
          size_t n = op - 0x84;
          Need(n);
          std::vector<c10::IValue> items(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          stack_.push_back(c10::ivalue::Tuple::create(std::move(items)));
          break;
        }
        case 'N': stack_.emplace_back(); break;
        case 0x88: stack_.emplace_back(true); break;
        case 0x89: stack_.emplace_back(false); break;
        case 'J': stack_.emplace_back(int64_t{static_cast<int32_t>(LittleEndian(4))}); break;
        case 'K': stack_.emplace_back(static_cast<int64_t>(Byte())); break;
        case 'M': stack_.emplace_back(static_cast<int64_t>(LittleEndian(2))); break;
        case 0x8a: {                               // LONG1
          size_t n = Byte();
          if (n > 8) throw ParseError("integer wider than 64 bits");
          uint64_t v = n ? LittleEndian(n) : 0;
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          stack_.emplace_back(static_cast<int64_t>(v));
          break;
        }
        case 'G': {                                // BINFLOAT, big endian
          std::string_view b = Take(8);
          uint64_t bits = 0;
          for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);
          double d;
          std::memcpy(&d, &bits, sizeof(d));
          stack_.emplace_back(d);
          break;
        }
        case 'X': stack_.emplace_back(std::string(Take(LittleEndian(4)))); break;   // BINUNICODE
        case 0x8c: stack_.emplace_back(std::string(Take(Byte()))); break;           // SHORT_BINUNICODE
        case 0x8d: stack_.emplace_back(std::string(Take(LittleEndian(8)))); break;  // BINUNICODE8
        case 'B': stack_.emplace_back(std::string(Take(LittleEndian(4)))); break;   // BINBYTES
        case 'C': stack_.emplace_back(std::string(Take(Byte()))); break;            // SHORT_BINBYTES
        case 'q': Memo(Byte()); break;
        case 'r': Memo(LittleEndian(4)); break;
        case 0x94: Memo(memo_.size()); break;      // MEMOIZE
        case 'h': Recall(Byte()); break;
        case 'j': Recall(LittleEndian(4)); break;
        case 'c': {                                // GLOBAL "module\nname\n"
          std::string module = Line(), name = Line();
          stack_.push_back(Global(absl::StrCat(module, ".", name)));
          break;
        }
        case 0x93: {                               // STACK_GLOBAL
          std::string name = Pop().toStringRef(), module = Pop().toStringRef();
          stack_.push_back(Global(absl::StrCat(module, ".", name)));
          break;
        }
        case 'R': {
          c10::IValue args = Pop(), callable = Pop();
          stack_.push_back(Reduce(callable, args));
          break;
        }
        case 'b': Pop(); break;                    // BUILD: object state (an OrderedDict's _metadata) is dropped
        case 's': {
          c10::IValue value = Pop(), key = Pop();
          Top().toGenericDict().insert_or_assign(key, value);
          break;
        }
        case 'u': {
          std::vector<c10::IValue> items = PopMark();
          if (items.size() % 2 != 0) throw ParseError("odd SETITEMS");
          auto dict = Top().toGenericDict();
          for (size_t i = 0; i < items.size(); i += 2) dict.insert_or_assign(items[i], items[i + 1]);
          break;
        }
        case 'a': {
          c10::IValue value = Pop();
          Top().toList().push_back(value);
          break;
        }
        case 'e': {
          std::vector<c10::IValue> items = PopMark();
          auto list = Top().toList();
          for (auto& v : items) list.push_back(v);
          break;
        }
        case 'Q': stack_.push_back(PersistentLoad(Pop())); break;
        case '0': Pop(); break;
        case '1': PopMark(); break;
        case '2': stack_.push_back(Top()); break;
        default: throw ParseError(absl::StrCat("unsupported pickle opcode 0x", absl::Hex(op)));
      }
    }
  }

 private:
  static c10::IValue NewDict() { return c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get()); }

  uint8_t Byte() { return static_cast<uint8_t>(Take(1)[0]); }
  std::string_view Take(uint64_t n) {
    if (n > p_.size() - pos_) throw ParseError("truncated pickle");
    std::string_view out = p_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t LittleEndian(size_t n) {
    std::string_view b = Take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
    return v;
  }
  std::string Line() {
    size_t end = p_.find('\n', pos_);
    if (end == std::string_view::npos) throw ParseError("truncated pickle");
    std::string out(p_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  void Need(size_t n) {
    size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) throw ParseError("pickle stack underflow");
  }
  c10::IValue& Top() {
    Need(1);
    return stack_.back();
  }
  c10::IValue Pop() {
    Need(1);
    c10::IValue v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  std::vector<c10::IValue> PopMark() {
    if (marks_.empty()) throw ParseError("pickle MARK missing");
    size_t at = marks_.back();
    marks_.pop_back();
    std::vector<c10::IValue> items(stack_.begin() + static_cast<std::ptrdiff_t>(at), stack_.end());
    stack_.resize(at);
    return items;
  }
  void Memo(uint64_t id) { memo_[id] = Top(); }
  void Recall(uint64_t id) {
    auto it = memo_.find(id);
    if (it == memo_.end()) throw ParseError("pickle memo entry missing");
    stack_.push_back(it->second);
  }

  c10::IValue Reduce(const c10::IValue& callable, const c10::IValue& args_value) {
    std::optional<std::string> name = GlobalName(callable);
    if (!name || !args_value.isTuple()) throw ParseError("pickle REDUCE of a non-global");
    const auto& args = args_value.toTupleRef().elements();
    auto arg = [&](size_t i) -> const c10::IValue& {
      if (i >= args.size()) throw ParseError(absl::StrCat(*name, ": too few arguments"));
      return args[i];
    };
    if (*name == "collections.OrderedDict") return NewDict();
    if (*name == "torch._utils._rebuild_tensor_v2" || *name == "torch._utils._rebuild_tensor") {
      torch::Tensor storage = arg(0).toTensor();
      std::vector<int64_t> size = IntTuple(arg(2)), stride = IntTuple(arg(3));
      const int64_t offset = arg(1).toInt();
      int64_t extent = offset + 1;
      for (size_t d = 0; d < size.size(); ++d) {
        if (size[d] == 0) extent = 0;
        if (extent > 0) extent += (size[d] - 1) * stride[d];
      }
      if (extent > storage.numel() || offset < 0) throw ParseError("tensor exceeds its storage");
      return storage.as_strided(size, stride, offset);
    }
    if (*name == "torch._utils._rebuild_parameter" || *name == "torch._utils._rebuild_parameter_with_state") {
      return arg(0);
    }
    if (*name == "torch.jit._pickle.restore_type_tag" || absl::StartsWith(*name, "torch.jit._pickle.build_")) {
      return arg(0);
    }
    throw ParseError(absl::StrCat("refusing to call Python global ", *name));
  }

  // ('storage', storage type, key, location, numel) -> a 1-D CPU tensor.
  c10::IValue PersistentLoad(const c10::IValue& pid) {
    if (!pid.isTuple()) throw ParseError("bad persistent id");
    const std::vector<c10::IValue> e(pid.toTupleRef().elements().begin(), pid.toTupleRef().elements().end());
    if (e.size() < 5 || !e[0].isString() || e[0].toStringRef() != "storage") {
      throw ParseError("unsupported persistent id (not a tensor storage)");
    }
    const std::optional<std::string> type = GlobalName(e[1]);
    const std::optional<c10::ScalarType> known = type ? StorageDtype(*type) : std::nullopt;
    if (!known.has_value()) throw ParseError("unsupported tensor storage type");
    const c10::ScalarType dtype = known.value();
    const std::string key = e[2].toStringRef();
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const int64_t numel = e[4].toInt();
    const std::string record = absl::StrCat("data/", key);
    if (!reader_.hasRecord(record)) throw ParseError(absl::StrCat("tensor data ", record, " missing"));
    auto [data, size] = reader_.getRecord(record);
    const size_t element = c10::elementSize(dtype);
    if (numel < 0 || size != static_cast<size_t>(numel) * element) {
      throw ParseError(absl::StrCat("tensor data ", record, " has ", size, " bytes, not ", numel * element));
    }
    torch::Tensor t = torch::empty({numel}, torch::TensorOptions(dtype));
    if (size > 0) std::memcpy(t.data_ptr(), data.get(), size);
    storages_.emplace(key, t);
    return t;
  }

  std::string_view p_;
  size_t pos_ = 0;
  caffe2::serialize::PyTorchStreamReader& reader_;
  std::vector<c10::IValue> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, c10::IValue> memo_;
  std::unordered_map<std::string, c10::IValue> storages_;
};

// Lists, dicts and tensors in the forms that carry no TorchScript type tag:
// generic lists (the Pickler writes int/double/bool/tensor lists with
// torch.jit._pickle.build_* globals), contiguous CPU tensors, and floats as
// 0-dim float64 tensors (BINFLOAT is not among the opcodes of PyTorch 1.13's
// weights_only unpickler).
c10::IValue Plain(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().detach().to(torch::kCPU).contiguous();
  if (v.isDouble()) return torch::tensor(v.toDouble(), torch::kFloat64);
  if (v.isList()) {
    c10::impl::GenericList out(c10::AnyType::get());
    for (const c10::IValue& item : v.toListRef()) out.push_back(Plain(item));
    return out;
  }
  if (v.isGenericDict()) {
    auto in = v.toGenericDict();
    c10::impl::GenericDict out(in.keyType(), c10::AnyType::get());
    for (const auto& entry : in) out.insert(entry.key(), Plain(entry.value()));
    return out;
  }
  return v;
}

}  // namespace

double ToDouble(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().item<double>();
  return v.toDouble();
}

std::string TorchErrorMessage(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    std::string message = c10_error->what_without_backtrace();
    // Some messages still carry a multi-line context; keep the first line.
    return message.substr(0, message.find('\n'));
  }
  std::string message = e.what();
  return message.substr(0, message.find('\n'));
}

absl::StatusOr<c10::IValue> ReadTorchFile(std::string_view bytes, const std::string& origin) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<StringReadAdapter>(bytes));
    if (!reader.hasRecord("data.pkl")) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": not a torch.save file (no data.pkl)"));
    }
    auto [data, size] = reader.getRecord("data.pkl");
    Unpickler unpickler(std::string_view(static_cast<const char*>(data.get()), size), reader);
    return unpickler.Run();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": cannot read: ", TorchErrorMessage(e)));
  }
}

absl::StatusOr<std::string> WriteTorchFile(const c10::IValue& value) {
  try {
    c10::IValue plain = Plain(value);
    std::string program;
    torch::jit::Pickler pickler([&](const char* buf, size_t n) { program.append(buf, n); }, nullptr, nullptr,
                                nullptr, nullptr, /*tag_aggregates=*/false);
    pickler.protocol();
    pickler.pushIValue(plain);
    pickler.stop();
    std::string out;
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) {
      out.append(static_cast<const char*>(buf), n);
      return n;
    });
    torch::jit::writeArchiveAndTensors("data", program.data(), program.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
    return out;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot serialize: ", TorchErrorMessage(e)));
  }
}

}  // namespace atelier::trainer
