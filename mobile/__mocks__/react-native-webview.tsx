/**
 * The WebView is a native view that cannot run under jest: this stand-in renders a plain view
 * and keeps the props it was given, so tests can drive its navigation callbacks.
 */
import { View } from 'react-native';

type Props = Record<string, unknown>;

export const lastWebViewProps: { current: Props | null } = { current: null };

function record(props: Props): void {
  lastWebViewProps.current = props;
}

export function WebView(props: Props) {
  record(props);
  return <View testID="webview-native" />;
}

export default WebView;
