#include "sinks/eval/dataset_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "core/hash.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "core/time_format.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::eval {
namespace {

using state::Family;

// Key prefixes of Family::datasets (sinks/eval/README.md has the layout).
constexpr std::string_view kMetaPrefix = std::string_view("ds\0", 3);     // ds \0 name
constexpr std::string_view kVersionPrefix = std::string_view("dv\0", 3);  // dv \0 name \0 version(BE8)
constexpr std::string_view kMemberPrefix = std::string_view("dm\0", 3);   // dm \0 name \0 trace_id
constexpr std::string_view kRecordPrefix = std::string_view("dr\0", 3);   // dr \0 name \0 seq(BE8) version(BE8)
constexpr std::string_view kTracePrefix = std::string_view("dt\0", 3);    // dt \0 trace_id → [names]
constexpr std::string_view kDirtyPrefix = std::string_view("dd\0", 3);    // dd \0 trace_id

constexpr char kEntryRecord = 'R';   // 'R' + record JSON line
constexpr char kEntryRemoved = 'X';  // tombstone

void append_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t read_be64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

std::string key2(std::string_view prefix, std::string_view a) {
  std::string k(prefix);
  k += a;
  return k;
}

std::string key3(std::string_view prefix, std::string_view a, std::string_view b) {
  std::string k(prefix);
  k += a;
  k.push_back('\0');
  k += b;
  return k;
}

// "dr\0name\0": every entry of one dataset.
std::string record_prefix(std::string_view name) {
  std::string k(kRecordPrefix);
  k += name;
  k.push_back('\0');
  return k;
}

std::string record_key(std::string_view name, int64_t seq, int64_t version) {
  std::string k = record_prefix(name);
  append_be64(k, static_cast<uint64_t>(seq));
  append_be64(k, static_cast<uint64_t>(version));
  return k;
}

std::string version_key(std::string_view name, int64_t version) {
  std::string k(kVersionPrefix);
  k += name;
  k.push_back('\0');
  append_be64(k, static_cast<uint64_t>(version));
  return k;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

Status corrupt(std::string_view what, std::string_view name, std::string_view problem) {
  return Status::corruption("stored " + std::string(what) + " of dataset " + std::string(name) + ": " +
                            std::string(problem));
}

// Stored JSON helpers. Times are RFC 3339 strings (JSON numbers are doubles: nanoseconds would
// lose precision), hashes are hex strings.
int64_t get_int(const JsonTree& v, std::string_view key) {
  const JsonTree* f = v.find(key);
  return f && f->is_number() ? static_cast<int64_t>(f->as_number()) : 0;
}
std::string get_string(const JsonTree& v, std::string_view key) {
  const JsonTree* f = v.find(key);
  return f && f->is_string() ? f->as_string() : std::string();
}
UnixNanos get_time(const JsonTree& v, std::string_view key) {
  return parse_rfc3339_ns(get_string(v, key)).value_or(0);
}

// --- dataset meta ---

struct Meta {
  DatasetInfo info;
  int64_t next_seq = 0;  // seq of the next new member
};

std::string encode_meta(const Meta& m) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("name", m.info.name);
  w.field("created_time", format_rfc3339(m.info.created_time));
  w.field("last_update_time", format_rfc3339(m.info.last_update_time));
  w.field_int("latest_version", m.info.latest_version);
  w.field_int("record_count", m.info.record_count);
  w.field_int("next_seq", m.next_seq);
  w.field("created_by", m.info.created_by);
  w.end_object();
  return out;
}

Result<Meta> decode_meta(std::string_view name, std::string_view value) {
  auto v = parse_json(value);
  if (!v.is_ok()) return corrupt("meta", name, v.status().message());
  Meta m;
  m.info.name = std::string(name);
  m.info.dataset_id = dataset_id_for(name);
  m.info.created_time = get_time(*v, "created_time");
  m.info.last_update_time = get_time(*v, "last_update_time");
  m.info.latest_version = get_int(*v, "latest_version");
  m.info.record_count = get_int(*v, "record_count");
  m.info.created_by = get_string(*v, "created_by");
  m.next_seq = get_int(*v, "next_seq");
  return m;
}

// --- versions ---

struct StoredVersion {
  VersionInfo info;
  int64_t next_seq = 0;  // records of this version all have seq < next_seq
};

std::string encode_version(const StoredVersion& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field_int("version", s.info.version);
  w.field("created_time", format_rfc3339(s.info.created_time));
  w.field_int("record_count", s.info.record_count);
  w.field_int("added", s.info.added);
  w.field_int("updated", s.info.updated);
  w.field_int("removed", s.info.removed);
  w.field("cause", s.info.cause);
  w.field_int("next_seq", s.next_seq);
  w.end_object();
  return out;
}

Result<StoredVersion> decode_version(std::string_view name, std::string_view value) {
  auto v = parse_json(value);
  if (!v.is_ok()) return corrupt("version", name, v.status().message());
  StoredVersion s;
  s.info.version = get_int(*v, "version");
  s.info.created_time = get_time(*v, "created_time");
  s.info.record_count = get_int(*v, "record_count");
  s.info.added = get_int(*v, "added");
  s.info.updated = get_int(*v, "updated");
  s.info.removed = get_int(*v, "removed");
  s.info.cause = get_string(*v, "cause");
  s.next_seq = get_int(*v, "next_seq");
  return s;
}

// --- members ---

struct Member {
  int64_t seq = 0;
  uint64_t hash = 0;
  UnixNanos create_time = 0;
  bool removed = false;
  RecordOrigin origin;
};

std::string encode_member(const Member& m) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field_int("seq", m.seq);
  w.field("hash", hex64(m.hash));
  w.field("create_time", format_rfc3339(m.create_time));
  w.field("removed", m.removed);
  w.field("via", to_string(m.origin.via));
  if (m.origin.via == RecordOrigin::Via::eval_topic) {
    w.field("topic", m.origin.topic);
    w.field_int("partition", m.origin.partition);
    w.field_int("offset", m.origin.offset);
    w.field("rule", m.origin.rule);
  }
  w.end_object();
  return out;
}

Result<Member> decode_member(std::string_view name, std::string_view value) {
  auto v = parse_json(value);
  if (!v.is_ok()) return corrupt("member", name, v.status().message());
  Member m;
  m.seq = get_int(*v, "seq");
  m.hash = std::strtoull(get_string(*v, "hash").c_str(), nullptr, 16);
  m.create_time = get_time(*v, "create_time");
  const JsonTree* removed = v->find("removed");
  m.removed = removed && removed->is_bool() && removed->as_bool();
  if (get_string(*v, "via") == "eval_topic") {
    m.origin.via = RecordOrigin::Via::eval_topic;
    m.origin.topic = get_string(*v, "topic");
    m.origin.partition = static_cast<int32_t>(get_int(*v, "partition"));
    m.origin.offset = get_int(*v, "offset");
    m.origin.rule = get_string(*v, "rule");
  }
  return m;
}

// --- the trace → datasets index ---

Result<std::vector<std::string>> decode_names(std::string_view value) {
  auto v = parse_json(value);
  if (!v.is_ok() || !v->is_array()) return Status::corruption("stored dataset index: expected a JSON array");
  std::vector<std::string> names;
  for (const auto& n : v->as_array()) {
    if (n.is_string()) names.push_back(n.as_string());
  }
  return names;
}

uint64_t member_hash(std::string_view trace_id) { return xxh64(trace_id, 0xd7); }

std::string encode_names(const std::vector<std::string>& names) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (const auto& n : names) w.string(n);
  w.end_array();
  return out;
}

}  // namespace

// One dataset touched by a change batch.
struct DatasetStore::Pending {
  Meta meta;
  bool created = false;  // created by this batch (a version-0 entry is written)
  bool changed = false;  // a record changed: meta.info.latest_version is the new version
  int64_t added = 0, updated = 0, unchanged = 0, removed = 0;
};

// One change batch: every write it makes lands in one WriteBatch, one version per dataset.
struct DatasetStore::Change {
  Change(state::Store& store, UnixNanos now, std::string cause) : batch(store), now(now), cause(std::move(cause)) {}
  state::WriteBatch batch;
  UnixNanos now;
  std::string cause;
  std::map<std::string, Pending, std::less<>> datasets;
  // Traces that became a member of their first dataset / left their last one: applied to the
  // in-memory index once the batch is written.
  std::vector<uint64_t> members_added, members_removed;
  std::string scratch;
};

DatasetStore::DatasetStore(state::Store& store, const Clock& clock, DatasetStoreOptions options)
    : _store(store), _clock(clock), _options(options), _reader(store) {}

namespace {
UnixNanos now_ns(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count();
}
}  // namespace

Result<DatasetStore::Pending*> DatasetStore::load_dataset(Change& change, std::string_view name, bool create,
                                                          std::string_view created_by) {
  if (auto it = change.datasets.find(name); it != change.datasets.end()) return &it->second;
  TF_ASSIGN_OR_RETURN(auto stored, change.batch.get(Family::datasets, key2(kMetaPrefix, name)));
  Pending p;
  if (stored) {
    TF_ASSIGN_OR_RETURN(p.meta, decode_meta(name, *stored));
  } else if (create) {
    p.created = true;
    p.meta.info.name = std::string(name);
    p.meta.info.dataset_id = dataset_id_for(name);
    p.meta.info.created_time = change.now;
    p.meta.info.last_update_time = change.now;
    p.meta.info.created_by = std::string(created_by);
  } else {
    return Status::not_found("dataset " + std::string(name) + " not found");
  }
  auto [it, _] = change.datasets.emplace(std::string(name), std::move(p));
  return &it->second;
}

// Rebuilds one trace's record in `p`. `origin` is where a new member came from; nullptr means
// "refresh only": a trace that is not a (current) member is left alone.
Status DatasetStore::upsert(Change& change, Pending& p, const std::string& trace_id, const Trace& joined,
                            const RecordOrigin* origin) {
  const std::string& name = p.meta.info.name;
  const std::string member_key = key3(kMemberPrefix, name, trace_id);
  TF_ASSIGN_OR_RETURN(auto stored, change.batch.get(Family::datasets, member_key));
  std::optional<Member> member;
  if (stored) {
    TF_ASSIGN_OR_RETURN(member, decode_member(name, *stored));
  }
  const bool current = member && !member->removed;
  if (!origin && !current) return Status::ok();

  RecordContent content = build_record_content(joined);
  const uint64_t hash = content_hash(content);
  if (current && member->hash == hash) {
    ++p.unchanged;
    return Status::ok();
  }
  if (!p.changed) {
    p.changed = true;
    ++p.meta.info.latest_version;
  }
  Member m;
  if (current) {
    m = *member;
    ++p.updated;
  } else {
    // New member, or one removed earlier coming back: it keeps its seq (its place in the order).
    m.seq = member ? member->seq : p.meta.next_seq++;
    m.create_time = change.now;
    m.origin = *origin;
    ++p.added;
    ++p.meta.info.record_count;
    const std::string index_key = key2(kTracePrefix, trace_id);
    TF_ASSIGN_OR_RETURN(auto index, change.batch.get(Family::datasets, index_key));
    std::vector<std::string> names;
    if (index) {
      TF_ASSIGN_OR_RETURN(names, decode_names(*index));
    }
    if (names.empty()) change.members_added.push_back(member_hash(trace_id));
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
      change.batch.put(Family::datasets, index_key, encode_names(names));
    }
  }
  m.hash = hash;
  m.removed = false;

  RecordEnvelope e;
  e.dataset_name = name;
  e.version = p.meta.info.latest_version;
  e.create_time = m.create_time;
  e.last_update_time = change.now;
  e.origin = m.origin;
  change.scratch.assign(1, kEntryRecord);
  JsonWriter w(change.scratch);
  write_record_json(w, content, e);
  change.batch.put(Family::datasets, record_key(name, m.seq, e.version), change.scratch);
  change.batch.put(Family::datasets, member_key, encode_member(m));
  return Status::ok();
}

Status DatasetStore::commit(Change& change, bool sync) {
  for (auto& [name, p] : change.datasets) {
    if (!p.created && !p.changed) continue;
    if (p.created) {
      // Version 0: the dataset as created, empty.
      StoredVersion v0;
      v0.info.created_time = change.now;
      v0.info.cause = "create";
      change.batch.put(Family::datasets, version_key(name, 0), encode_version(v0));
    }
    if (p.changed) {
      p.meta.info.last_update_time = change.now;
      StoredVersion v;
      v.info.version = p.meta.info.latest_version;
      v.info.created_time = change.now;
      v.info.record_count = p.meta.info.record_count;
      v.info.added = p.added;
      v.info.updated = p.updated;
      v.info.removed = p.removed;
      v.info.cause = change.cause;
      v.next_seq = p.meta.next_seq;
      change.batch.put(Family::datasets, version_key(name, v.info.version), encode_version(v));
    }
    change.batch.put(Family::datasets, key2(kMetaPrefix, name), encode_meta(p.meta));
  }
  TF_RETURN_IF_ERROR(load_locked());
  TF_RETURN_IF_ERROR(_store.write(change.batch, {.sync = sync}));
  for (uint64_t h : change.members_added) _members.insert(h);
  for (uint64_t h : change.members_removed) {
    if (auto it = _members.find(h); it != _members.end()) _members.erase(it);
  }
  for (const auto& [name, p] : change.datasets) {
    if (p.changed) ++_stats.versions;
    _stats.records_added += static_cast<uint64_t>(p.added);
    _stats.records_updated += static_cast<uint64_t>(p.updated);
    _stats.records_removed += static_cast<uint64_t>(p.removed);
  }
  return Status::ok();
}

ChangeSummary DatasetStore::summary_of(const Pending& p) const {
  ChangeSummary s;
  s.dataset = p.meta.info.name;
  s.version = p.meta.info.latest_version;
  s.changed = p.changed;
  s.added = p.added;
  s.updated = p.updated;
  s.unchanged = p.unchanged;
  s.removed = p.removed;
  return s;
}

Result<DatasetInfo> DatasetStore::create(std::string_view name) {
  TF_RETURN_IF_ERROR(validate_dataset_name(name));
  std::lock_guard lock(_write_mu);
  Change change(_store, now_ns(_clock), "create");
  TF_ASSIGN_OR_RETURN(Pending * p, load_dataset(change, name, true, "api"));
  if (!p->created) return Status::already_exists("dataset " + std::string(name) + " exists");
  DatasetInfo info = p->meta.info;
  TF_RETURN_IF_ERROR(commit(change, true));
  return info;
}

Result<ChangeSummary> DatasetStore::add_traces(std::string_view name, std::span<const std::string> trace_ids) {
  TF_RETURN_IF_ERROR(validate_dataset_name(name));
  if (trace_ids.empty()) return Status::invalid_argument("trace_ids: at least one trace id is required");
  if (trace_ids.size() > _options.max_traces_per_call) {
    return Status::invalid_argument("trace_ids: at most " + std::to_string(_options.max_traces_per_call) +
                                    " per call, got " + std::to_string(trace_ids.size()));
  }
  for (size_t i = 0; i < trace_ids.size(); ++i) {
    if (!is_trace_id(trace_ids[i])) {
      return Status::invalid_argument("trace_ids[" + std::to_string(i) + "]: expected \"tr-\" + 32 lowercase hex, got \"" +
                                      trace_ids[i] + "\"");
    }
  }
  std::lock_guard lock(_write_mu);
  Change change(_store, now_ns(_clock), "api");
  TF_ASSIGN_OR_RETURN(Pending * p, load_dataset(change, name, false, ""));
  // Read every trace first: nothing is written unless all of them exist.
  std::vector<Trace> traces;
  traces.reserve(trace_ids.size());
  for (size_t i = 0; i < trace_ids.size(); ++i) {
    TF_ASSIGN_OR_RETURN(auto present, _store.get(Family::traces, trace_ids[i]));
    TF_ASSIGN_OR_RETURN(auto joined, _reader.get(trace_ids[i], true));
    if (!present || !joined) {
      return Status::not_found("trace_ids[" + std::to_string(i) + "]: trace " + trace_ids[i] + " not found");
    }
    traces.push_back(std::move(*joined));
  }
  const RecordOrigin api{RecordOrigin::Via::api, "", -1, -1, ""};
  for (size_t i = 0; i < trace_ids.size(); ++i) TF_RETURN_IF_ERROR(upsert(change, *p, trace_ids[i], traces[i], &api));
  ChangeSummary summary = summary_of(*p);
  TF_RETURN_IF_ERROR(commit(change, true));
  return summary;
}

Result<ChangeSummary> DatasetStore::remove_trace(std::string_view name, std::string_view trace_id) {
  TF_RETURN_IF_ERROR(validate_dataset_name(name));
  if (!is_trace_id(trace_id)) {
    return Status::invalid_argument("trace_id: expected \"tr-\" + 32 lowercase hex, got \"" + std::string(trace_id) + "\"");
  }
  std::lock_guard lock(_write_mu);
  Change change(_store, now_ns(_clock), "api");
  TF_ASSIGN_OR_RETURN(Pending * p, load_dataset(change, name, false, ""));
  const std::string member_key = key3(kMemberPrefix, name, trace_id);
  TF_ASSIGN_OR_RETURN(auto stored, change.batch.get(Family::datasets, member_key));
  std::optional<Member> member;
  if (stored) {
    TF_ASSIGN_OR_RETURN(member, decode_member(name, *stored));
  }
  if (!member || member->removed) {
    return Status::not_found("trace " + std::string(trace_id) + " is not in dataset " + std::string(name));
  }
  p->changed = true;
  ++p->meta.info.latest_version;
  ++p->removed;
  --p->meta.info.record_count;
  member->removed = true;
  change.batch.put(Family::datasets, record_key(name, member->seq, p->meta.info.latest_version),
                   std::string(1, kEntryRemoved));
  change.batch.put(Family::datasets, member_key, encode_member(*member));
  const std::string index_key = key2(kTracePrefix, trace_id);
  TF_ASSIGN_OR_RETURN(auto index, change.batch.get(Family::datasets, index_key));
  if (index) {
    TF_ASSIGN_OR_RETURN(auto names, decode_names(*index));
    names.erase(std::remove(names.begin(), names.end(), name), names.end());
    if (names.empty()) {
      change.members_removed.push_back(member_hash(trace_id));
      change.batch.erase(Family::datasets, index_key);
    } else {
      change.batch.put(Family::datasets, index_key, encode_names(names));
    }
  }
  ChangeSummary summary = summary_of(*p);
  TF_RETURN_IF_ERROR(commit(change, true));
  return summary;
}

Result<std::vector<ChangeSummary>> DatasetStore::apply_eval_batch(std::span<const EvalAdd> adds,
                                                                  std::string_view cluster_id,
                                                                  std::span<const ConsumedOffset> offsets) {
  std::lock_guard lock(_write_mu);
  Change change(_store, now_ns(_clock), "eval_topic");
  Trace empty;
  for (const EvalAdd& add : adds) {
    TF_ASSIGN_OR_RETURN(Pending * p, load_dataset(change, add.dataset, true, "rule:" + add.origin.rule));
    // The trace may not be in state yet: the router produces eval records before the join writes
    // the batch that routed them. The record is then built from what is there, and that join
    // write marks it dirty (write_join_batch), so refresh_dirty() completes it.
    TF_ASSIGN_OR_RETURN(auto joined, _reader.get(add.trace_id, true));
    const Trace* trace = &empty;
    if (joined) {
      trace = &*joined;
    } else {
      empty.trace_info.trace_id = add.trace_id;
    }
    TF_RETURN_IF_ERROR(upsert(change, *p, add.trace_id, *trace, &add.origin));
  }
  for (const auto& o : offsets) change.batch.set_offset(cluster_id, o.topic, o.partition, o.next_offset);
  std::vector<ChangeSummary> out;
  for (const auto& [name, p] : change.datasets) out.push_back(summary_of(p));
  TF_RETURN_IF_ERROR(commit(change, false));
  return out;
}

Result<size_t> DatasetStore::refresh_dirty() {
  // Scanned before taking the lock (an idle sink does not hold up the join): a mark the join
  // writes after this scan for one of these traces was written before the lock below is taken,
  // so the rebuild under the lock sees its change and clearing the mark loses nothing.
  std::vector<std::string> dirty;
  TF_RETURN_IF_ERROR(_store
                         .scan(Family::datasets,
                               {.start = kDirtyPrefix,
                                .end = std::string_view("dd\1", 3),
                                .limit = _options.max_refresh_traces},
                               [&](std::string_view key, std::string_view) {
                                 dirty.emplace_back(key.substr(kDirtyPrefix.size()));
                                 return true;
                               })
                         .status());
  if (dirty.empty()) return size_t{0};
  std::lock_guard lock(_write_mu);
  Change change(_store, now_ns(_clock), "refresh");
  for (const std::string& trace_id : dirty) {
    change.batch.erase(Family::datasets, key2(kDirtyPrefix, trace_id));
    TF_ASSIGN_OR_RETURN(auto index, change.batch.get(Family::datasets, key2(kTracePrefix, trace_id)));
    if (!index) continue;
    TF_ASSIGN_OR_RETURN(auto names, decode_names(*index));
    TF_ASSIGN_OR_RETURN(auto joined, _reader.get(trace_id, true));
    if (!joined) continue;  // nothing to build from (state of this trace was never written)
    for (const auto& name : names) {
      TF_ASSIGN_OR_RETURN(Pending * p, load_dataset(change, name, false, ""));
      TF_RETURN_IF_ERROR(upsert(change, *p, trace_id, *joined, nullptr));
    }
  }
  TF_RETURN_IF_ERROR(commit(change, false));
  _stats.refreshed += dirty.size();
  return dirty.size();
}

Status DatasetStore::load() {
  std::lock_guard lock(_write_mu);
  return load_locked();
}

Status DatasetStore::load_locked() {
  if (_loaded) return Status::ok();
  std::unordered_multiset<uint64_t> members;
  TF_RETURN_IF_ERROR(_store.scan_prefix(Family::datasets, kTracePrefix, [&](std::string_view key, std::string_view) {
    members.insert(member_hash(key.substr(kTracePrefix.size())));
    return true;
  }));
  _members = std::move(members);
  _loaded = true;
  return Status::ok();
}

Status DatasetStore::write_join_batch(state::WriteBatch& batch, std::span<const std::string_view> touched) {
  std::lock_guard lock(_write_mu);
  TF_RETURN_IF_ERROR(load_locked());
  uint64_t marked = 0;
  // The marks go into a batch of their own, written together with the join's: the join's batch
  // is read by its next batch meanwhile (WriteBatch::read_over) and must not change.
  state::WriteBatch marks(_store);
  if (!_members.empty()) {
    for (std::string_view trace_id : touched) {
      if (!_members.contains(member_hash(trace_id))) continue;
      marks.put(Family::datasets, key2(kDirtyPrefix, trace_id), "");
      ++marked;
    }
  }
  TF_RETURN_IF_ERROR(_store.write(batch, marks));
  _stats.marked_dirty += marked;
  return Status::ok();
}

Result<std::vector<DatasetInfo>> DatasetStore::list() const {
  std::vector<DatasetInfo> out;
  Status inner;
  TF_RETURN_IF_ERROR(_store.scan_prefix(Family::datasets, kMetaPrefix, [&](std::string_view key, std::string_view value) {
    auto m = decode_meta(key.substr(kMetaPrefix.size()), value);
    if (!m.is_ok()) {
      inner = m.status();
      return false;
    }
    out.push_back(std::move(m->info));
    return true;
  }));
  TF_RETURN_IF_ERROR(inner);
  return out;
}

Result<std::optional<DatasetInfo>> DatasetStore::info(std::string_view name) const {
  TF_ASSIGN_OR_RETURN(auto stored, _store.get(Family::datasets, key2(kMetaPrefix, name)));
  if (!stored) return std::optional<DatasetInfo>();
  TF_ASSIGN_OR_RETURN(Meta m, decode_meta(name, *stored));
  return std::optional<DatasetInfo>(std::move(m.info));
}

Result<VersionPage> DatasetStore::versions(std::string_view name, int64_t from_version, size_t limit) const {
  TF_ASSIGN_OR_RETURN(auto meta, info(name));
  if (!meta) return Status::not_found("dataset " + std::string(name) + " not found");
  VersionPage page;
  const std::string start = version_key(name, std::max<int64_t>(0, from_version));
  const std::string end = state::prefix_successor(key3(kVersionPrefix, name, ""));
  Status inner;
  TF_RETURN_IF_ERROR(_store
                         .scan(Family::datasets, {.start = start, .end = end, .limit = limit + 1},
                               [&](std::string_view, std::string_view value) {
                                 auto v = decode_version(name, value);
                                 if (!v.is_ok()) {
                                   inner = v.status();
                                   return false;
                                 }
                                 if (page.versions.size() == limit) {
                                   page.next_version = v->info.version;
                                   return false;
                                 }
                                 page.versions.push_back(std::move(v->info));
                                 return true;
                               })
                         .status());
  TF_RETURN_IF_ERROR(inner);
  return page;
}

Result<RecordPage> DatasetStore::read_records(std::string_view name, std::optional<int64_t> version,
                                              int64_t start_seq, size_t max_records, size_t max_bytes,
                                              std::string& out) const {
  TF_ASSIGN_OR_RETURN(auto meta, info(name));
  if (!meta) return Status::not_found("dataset " + std::string(name) + " not found");
  const int64_t v = version.value_or(meta->latest_version);
  if (v < 0 || v > meta->latest_version) {
    return Status::not_found("version: dataset " + std::string(name) + " has versions 0 to " +
                             std::to_string(meta->latest_version) + ", not " + std::to_string(v));
  }
  TF_ASSIGN_OR_RETURN(auto stored_version, _store.get(Family::datasets, version_key(name, v)));
  if (!stored_version) return corrupt("version", name, "version " + std::to_string(v) + " is missing");
  TF_ASSIGN_OR_RETURN(StoredVersion sv, decode_version(name, *stored_version));

  RecordPage page;
  page.version = v;
  page.record_count = sv.info.record_count;
  const std::string prefix = record_prefix(name);
  std::string start = prefix, end = prefix;
  append_be64(start, static_cast<uint64_t>(std::max<int64_t>(0, start_seq)));
  // Records that joined after version v have seq >= its next_seq: the scan stops there.
  append_be64(end, static_cast<uint64_t>(sv.next_seq));
  const size_t out_start = out.size();

  // Entries of one record are contiguous, oldest version first; the newest at or before v wins.
  int64_t group_seq = -1;
  std::string best;  // the winning entry of the current group ('R' + line, or 'X'); reused
  bool have_best = false;
  auto emit = [&] {
    if (have_best && !best.empty() && best[0] == kEntryRecord) {
      out.append(best, 1, std::string::npos);
      out.push_back('\n');
      ++page.records;
    }
    have_best = false;
  };
  Status inner;
  TF_RETURN_IF_ERROR(_store
                         .scan(Family::datasets, {.start = start, .end = end},
                               [&](std::string_view key, std::string_view value) {
                                 if (key.size() != prefix.size() + 16) {
                                   inner = corrupt("record key", name, "unexpected length");
                                   return false;
                                 }
                                 const auto seq = static_cast<int64_t>(read_be64(key.substr(prefix.size())));
                                 const auto ver = static_cast<int64_t>(read_be64(key.substr(prefix.size() + 8)));
                                 if (seq != group_seq) {
                                   emit();
                                   if (page.records >= max_records || out.size() - out_start >= max_bytes) {
                                     page.next_seq = seq;
                                     return false;
                                   }
                                   group_seq = seq;
                                 }
                                 if (ver <= v) {
                                   best.assign(value);
                                   have_best = true;
                                 }
                                 return true;
                               })
                         .status());
  TF_RETURN_IF_ERROR(inner);
  if (!page.next_seq) emit();
  return page;
}

}  // namespace tracefeed::eval
