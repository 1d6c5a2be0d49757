import protobuf from 'protobufjs';

/**
 * The messages of TensorBoard's event files, declared with protobufjs from TensorBoard's own
 * `.proto` files (`tensorboard/compat/proto/{event,summary,tensor,tensor_shape,types}.proto`,
 * `tensorboard/plugins/hparams/plugin_data.proto`, `google/protobuf/struct.proto`): the same
 * names and field numbers, only the fields rxfit writes or reads. A decoder skips the fields
 * left out here, so TensorFlow's files still decode.
 */
const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
  }
  SourceMetadata source_metadata = 10;
}

message SourceMetadata {
  string writer = 1;
}

enum DataClass {
  DATA_CLASS_UNKNOWN = 0;
  DATA_CLASS_SCALAR = 1;
  DATA_CLASS_TENSOR = 2;
  DATA_CLASS_BLOB_SEQUENCE = 3;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  DataClass data_class = 4;
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_UINT8 = 4;
  DT_INT16 = 5;
  DT_INT8 = 6;
  DT_STRING = 7;
  DT_INT64 = 9;
  DT_BOOL = 10;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
  repeated bool bool_val = 11 [packed = true];
}
`;

const HPARAMS_PROTO = `
syntax = "proto3";
package tensorboard.hparams;

message HParamsPluginData {
  int32 version = 1;
  oneof data {
    SessionStartInfo session_start_info = 3;
  }
}

message SessionStartInfo {
  map<string, google.protobuf.Value> hparams = 1;
  string model_uri = 2;
  string monitor_url = 3;
  string group_name = 4;
  double start_time_secs = 5;
}
`;

const STRUCT_PROTO = `
syntax = "proto3";
package google.protobuf;

message Value {
  oneof kind {
    double number_value = 2;
    string string_value = 3;
    bool bool_value = 4;
  }
}
`;

const root = new protobuf.Root();
for (const source of [STRUCT_PROTO, TENSORBOARD_PROTO, HPARAMS_PROTO]) {
  protobuf.parse(source, root, { keepCase: true });
}
root.resolveAll();

/** `tensorboard.Event`: one record of an event file. */
export const EventMessage = root.lookupType('tensorboard.Event');
/** `tensorboard.hparams.HParamsPluginData`: the content of an hparams summary's plugin data. */
export const HParamsPluginDataMessage = root.lookupType('tensorboard.hparams.HParamsPluginData');
/** `tensorboard.DataType` values by name. */
export const DATA_TYPES = root.lookupEnum('tensorboard.DataType').values as Readonly<
  Record<string, number>
>;
