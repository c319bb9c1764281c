// The one module that imports @vlasky/zongji, the binlog decoder (test/unit/layers.test.ts holds
// every other module to that): the decoder class, its GTID set models and the event types the
// rest of my2pg uses. Replacing the decoder starts here and in binlog-reader.ts.

export { default as ZongJi, GtidSet, MariadbGtidPosition } from '@vlasky/zongji';
export type { AnyBinlogEvent, QueryEvent, RowsEvent, TableMapEntry, TableMapEvent } from '@vlasky/zongji';
