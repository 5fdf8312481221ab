// Original file: protos/route_guide.proto

import type { Point as _routeguide_Point, Point__Output as _routeguide_Point__Output } from '../routeguide/Point.ts';

export interface RouteNote {
  'location'?: (_routeguide_Point | null);
  'message'?: (string);
}

export interface RouteNote__Output {
  'location': (_routeguide_Point__Output | null);
  'message': (string);
}
