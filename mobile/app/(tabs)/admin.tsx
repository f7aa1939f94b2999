import { useState } from 'react';
import { ScrollView, StyleSheet, View } from 'react-native';

import { isAdmin, useSession } from '@/auth/session';
import { AdminForbidden } from '@/components/admin/AdminScreenFrame';
import { AgencySection } from '@/components/admin/AgencySection';
import { BrokersSection } from '@/components/admin/BrokersSection';
import { UsersSection } from '@/components/admin/UsersSection';
import { Chip } from '@/components/crm/Chips';
import { colors, spacing } from '@/components/ui/theme';
import { useI18n } from '@/i18n';

const SECTIONS = ['brokers', 'agency', 'users'] as const;
type Section = (typeof SECTIONS)[number];

/** The agency admin's console: brokers' connections, the agency connection, app users. */
export default function AdminScreen() {
  const { t } = useI18n();
  const { session } = useSession();
  const [section, setSection] = useState<Section>('brokers');

  // A broker who opens /admin directly learns it is not for them; nothing is requested.
  if (!isAdmin(session.user)) return <AdminForbidden />;

  return (
    <View style={styles.container} testID="admin-screen">
      <ScrollView
        horizontal
        showsHorizontalScrollIndicator={false}
        style={styles.tabsScroller}
        contentContainerStyle={styles.tabs}
        accessibilityLabel={t.admin.sectionsLabel}
        testID="admin-sections"
      >
        {SECTIONS.map((candidate) => (
          <Chip
            key={candidate}
            label={t.admin.sections[candidate]}
            selected={section === candidate}
            onPress={() => setSection(candidate)}
            testID={`admin-section-${candidate}`}
          />
        ))}
      </ScrollView>
      {section === 'brokers' ? <BrokersSection /> : section === 'agency' ? <AgencySection /> : <UsersSection />}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, padding: spacing.lg, gap: spacing.md, backgroundColor: colors.background },
  tabsScroller: { flexGrow: 0, flexShrink: 0 },
  tabs: { gap: spacing.sm, alignItems: 'center' },
});
