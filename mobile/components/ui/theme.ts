export const colors = {
  background: '#F6F7F9',
  surface: '#FFFFFF',
  text: '#1B1F24',
  muted: '#5E6773',
  primary: '#1F5EFF',
  primaryText: '#FFFFFF',
  border: '#DDE1E6',
  success: '#1E8E3E',
  successBackground: '#E6F4EA',
  danger: '#C5221F',
  dangerBackground: '#FCE8E6',
  infoBackground: '#E8F0FE',
};

export const spacing = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24 };
